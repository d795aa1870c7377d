import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { Agent, request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

// Under 1,000 slowloris sockets (heads dripped one line a second, from ten loopback addresses so that the
// per-client cap does not refuse them), a normal client's p99 stays within 2x its quiet p99. The machine
// is shared: quiet and loaded runs are made back to back, the loaded one compared with the worse of the
// quiet runs around it, and a round that misses is tried again (at most three rounds).

const SOCKETS = 1_000
const REQUESTS = 400
const ROUNDS = 3

function p99(ms: number[]): number {
  const sorted = [...ms].sort((a, b) => a - b)
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!
}

test(`a normal client's p99 under ${SOCKETS} slowloris sockets stays within 2x its quiet p99`, async (t) => {
  const origin = await startOrigin({ handler: (_req, res) => void res.end('ok') })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    // A header timeout longer than a round, so the sockets stay open while it is measured.
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ upstreams: [origin.url] }],
      clientTimeouts: { header: '60s' },
    },
    admin: { listen: '127.0.0.1:0' },
    log: { access: false },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const port = Number(new URL(gw.urls.reverse!).port)
  const agent = new Agent({ connections: 1, keepAliveTimeout: 30_000 })
  t.after(() => agent.close())
  const measure = async (): Promise<number> => {
    const ms: number[] = []
    for (let i = 0; i < REQUESTS; i++) {
      const start = performance.now()
      const r = await request(`${gw.urls.reverse}/ping`, { dispatcher: agent })
      await r.body.text()
      assert.equal(r.statusCode, 200)
      ms.push(performance.now() - start)
    }
    return p99(ms)
  }
  await measure() // warm-up

  const rounds: string[] = []
  let passed = false
  for (let round = 0; round < ROUNDS && !passed; round++) {
    const quietBefore = await measure()
    const sockets: net.Socket[] = []
    let closed = 0
    await Promise.all(
      Array.from(
        { length: SOCKETS },
        (_, i) =>
          new Promise<void>((resolve, reject) => {
            const s = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % 10)}` })
            s.on('error', () => {})
            s.once('close', () => closed++)
            s.once('connect', () => {
              s.write('GET / HTTP/1.1\r\nHost: x\r\n')
              resolve()
            })
            s.once('error', reject)
            sockets.push(s)
          }),
      ),
    )
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-Slow: 1\r\n')
    }, 1_000)
    let loaded: number
    try {
      loaded = await measure()
      assert.equal(closed, 0, 'every slowloris socket was open through the loaded run')
    } finally {
      clearInterval(drip)
      for (const s of sockets) s.destroy()
    }
    const quietAfter = await measure()
    const quiet = Math.max(quietBefore, quietAfter)
    rounds.push(
      `round ${round + 1}: quiet p99 ${quietBefore.toFixed(2)} / ${quietAfter.toFixed(2)} ms, under ${SOCKETS} slowloris sockets ${loaded.toFixed(2)} ms (${(loaded / quiet).toFixed(2)}x)`,
    )
    passed = loaded <= 2 * quiet
  }
  for (const r of rounds) t.diagnostic(r)
  assert.ok(passed, rounds.join('\n'))
  assert.equal(await gw.stop(), 0)
})
