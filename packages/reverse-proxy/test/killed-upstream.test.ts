import assert from 'node:assert/strict'
import http from 'node:http'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { client, get, namedOrigins, startProxy, waitUntil } from './helpers.js'

test('an upstream killed under load is ejected with zero client errors, and re-admitted when it recovers', async (t) => {
  const origins = await namedOrigins(t, 3)
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        upstreams: origins.map((o) => o.url),
        passiveHealth: { failures: 2, ejectMs: 400, maxEjectMs: 2000 },
      },
    ],
  })
  const agent = client(t)
  const errors: string[] = []
  const seen = new Map<string, number>()
  let stop = false
  const worker = async () => {
    for (let i = 0; i < 5000 && !stop; i++) {
      const r = await get(agent, `${proxy.url}/x`).catch((e: Error) => ({ status: 0, text: e.message }))
      if (r.status !== 200) errors.push(`${r.status} ${r.text}`)
      else seen.set(r.text, (seen.get(r.text) ?? 0) + 1)
    }
  }
  const load = Promise.all(Array.from({ length: 8 }, worker))
  // Conditions, not fixed sleeps: the machine may be busy with other tests.
  assert.ok(await waitUntil(() => (seen.get('origin-1') ?? 0) >= 20, 300, 20), 'load reaches every upstream')
  const victim = origins[1]!
  const port = victim.port
  await victim.close()
  const state = () => proxy.app.reverseProxy.upstreams('app').find((u) => u.url === victim.url)!.state
  assert.ok(await waitUntil(() => state() === 'ejected', 300, 20), 'the dead upstream is ejected')
  const total = () => [...seen.values()].reduce((a, b) => a + b, 0)
  const atEjection = total()
  assert.ok(
    await waitUntil(() => total() >= atEjection + 200, 300, 20),
    'traffic keeps flowing to the others',
  )
  stop = true
  await load
  assert.deepEqual(errors, [], 'no idempotent request failed')
  assert.ok((seen.get('origin-0') ?? 0) > 100 && (seen.get('origin-2') ?? 0) > 100)

  // It comes back on the same port: after the ejection expires, it takes traffic again.
  const revived = http.createServer((_req, res) => res.end('origin-1-revived'))
  revived.listen(port, '127.0.0.1')
  t.after(() => new Promise<void>((r) => revived.close(() => r())))
  revived.closeIdleConnections()
  let back = false
  for (let i = 0; i < 100 && !back; i++) {
    back = (await get(agent, `${proxy.url}/x`)).text === 'origin-1-revived'
    if (!back) await sleep(50)
  }
  assert.ok(back, 'the recovered upstream takes requests again')
  t.after(() => revived.closeAllConnections())
})
