import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { client, get, startProxy, waitUntil } from './helpers.js'

/** An origin answering its name after a short delay (so requests are in flight when it is killed). */
async function origin(name: string, port = 0): Promise<{ server: http.Server; port: number; kill(): void }> {
  const server = http.createServer((_req, res) => {
    setTimeout(() => res.end(name), 10)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    // A crash: the listener goes and every open connection is cut at once, requests in flight included.
    kill() {
      server.close()
      server.closeAllConnections()
    },
  }
}

test('an upstream killed under load and restarted takes traffic again right after the active check sees it back', async (t) => {
  const a = await origin('a')
  const b = await origin('b')
  t.after(() => {
    a.kill()
    b.kill()
  })
  const logs: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line !== '') logs.push(JSON.parse(line))
      cb()
    },
  })
  const proxy = await startProxy(
    t,
    {
      routes: [
        {
          name: 'app',
          balancer: 'round-robin',
          upstreams: [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`],
          healthCheck: { intervalMs: 100, timeoutMs: 500, rise: 2, fall: 3 },
          // The defaults: 3 failures, 5 s doubling up to 60 s.
        },
      ],
    },
    {},
    { logger: { level: 'info', stream } },
  )
  const agent = client(t)
  const seen: string[] = []
  const errors: string[] = []
  let stop = false
  const worker = async () => {
    // Bounded in count; stopped by the test well before.
    for (let i = 0; i < 20_000 && !stop; i++) {
      const r = await get(agent, `${proxy.url}/x`).catch((e: Error) => ({ status: 0, text: e.message }))
      if (r.status === 200) seen.push(r.text)
      else errors.push(`${r.status} ${r.text}`)
    }
  }
  const load = Promise.all(Array.from({ length: 16 }, worker))
  t.after(() => {
    stop = true
    return load
  })
  assert.ok(await waitUntil(() => seen.filter((s) => s === 'a').length >= 50, 500, 20), 'a takes traffic')

  a.kill()
  const state = () => proxy.app.reverseProxy.upstreams('app')[0]!.state
  assert.ok(await waitUntil(() => state() !== 'healthy', 500, 10), 'the dead upstream is taken out')
  await sleep(1000)
  const restarted = await origin('a', a.port)
  t.after(() => restarted.kill())
  const restartedAt = Date.now()
  const before = seen.length
  const servedByA = () => seen.slice(before).filter((s) => s === 'a').length
  // Liveness bound: the checks pass within rise × interval (200 ms); 5 s leaves room for a busy machine
  // and is still shorter than the 10-60 s a backoff built from the crash's failures would keep it out.
  assert.ok(await waitUntil(() => servedByA() >= 20, 250, 20), 'the restarted upstream takes traffic again')
  const backAfter = Date.now() - restartedAt
  stop = true
  await load
  assert.ok(backAfter < 5_000, `back after ${backAfter} ms`)
  assert.deepEqual(errors, [], 'no client saw an error')
  const ejected = logs.filter((l) => l.msg === 'upstream ejected after consecutive failures')
  const back = logs.filter((l) => l.msg === 'upstream back after an ejection')
  assert.ok(ejected.length <= 1, `ejected ${ejected.length} times for one crash`)
  assert.ok(
    ejected.length === back.length,
    `every ejection is followed by a logged return (${ejected.length} / ${back.length})`,
  )
  if (back.length > 0) assert.equal(back[0]!.by, 'health-check')
  console.log(`# restarted upstream back after ${backAfter} ms; ${errors.length} client errors`)
})
