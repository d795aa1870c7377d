// Latency of single requests: one keep-alive connection, one request at a time, so what is measured is
// the service time of an answer, without queueing behind other connections.

/** p50 and p99 (ms) of `count` sequential GETs of `url` (each must answer 200) on one undici connection. */
export async function sequentialLatency(url, count, headers = {}) {
  const { Client } = await import('undici')
  const u = new URL(url)
  const client = new Client(u.origin, { pipelining: 1 })
  const times = []
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      const res = await client.request({ path: `${u.pathname}${u.search}`, method: 'GET', headers })
      await res.body.dump()
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
      times.push(performance.now() - t0)
    }
  } finally {
    await client.close()
  }
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(count / 2)], p99: times[Math.floor(count * 0.99)] }
}
