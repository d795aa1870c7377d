import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { Agent, request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

test('a graceful stop with keep-alive clients finishes every request and cuts nothing', async (t) => {
  // Every request below is in flight at the origin when SIGTERM comes (one sent after it would race the
  // closing of idle connections, which is not what this is about).
  let arrived = 0
  let release: () => void = () => {}
  const allArrived = new Promise<void>((resolve) => {
    release = resolve
  })
  const origin = await startOrigin({
    handler: async (req, res) => {
      if (req.url === '/slow' || req.url?.startsWith('/quick-') === true) {
        if (++arrived === 5) release()
        await new Promise((r) => setTimeout(r, req.url === '/slow' ? 700 : 200))
      }
      res.end(`done ${req.url}`)
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
    shutdown: { grace: '10s' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  // Keep-alive clients: their connections stay open between requests, as a browser's or a load balancer's.
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 8 })
  t.after(() => agent.close())
  const get = async (path: string) => {
    const r = await request(`${gw.urls.reverse}${path}`, { dispatcher: agent })
    return `${r.statusCode} ${await r.body.text()}`
  }
  await Promise.all(Array.from({ length: 8 }, (_, i) => get(`/warm-${i}`)))
  const slow = get('/slow')
  const quick = Array.from({ length: 4 }, (_, i) => get(`/quick-${i}`))
  await allArrived
  const started = Date.now()
  gw.child.kill('SIGTERM')
  assert.deepEqual(
    await Promise.all(quick),
    [0, 1, 2, 3].map((i) => `200 done /quick-${i}`),
  )
  assert.equal(await slow, '200 done /slow')
  assert.equal(await gw.exited, 0)
  assert.ok(Date.now() - started < 9_000, 'the stop did not wait for the grace period')
  const cut = gw.logs.filter((l) => l.msg === 'cut the connections still open after the grace period')
  assert.deepEqual(cut, [], 'nothing was cut: every request finished within the grace period')
})
