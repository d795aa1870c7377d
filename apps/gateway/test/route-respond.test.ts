// Issue 27 item 7: a `respond` route answers every method with its fixed status, headers and body, with
// no upstream; the route's response headers and the listener's access log apply as to any route.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

test('respond: a fixed status, headers and body for every method, without upstreams', async (t) => {
  const file = await writeConfig(
    t,
    `
reverse:
  listen: 127.0.0.1:0
  routes:
    - prefix: /maintenance
      respond: { status: 503, headers: { retry-after: "120" }, body: "back soon\\n" }
      headers: { response: { set: { x-route: maintenance } } }
    - prefix: /healthz
      respond: { headers: { content-type: application/json }, body: '{"ok":true}' }
admin: { listen: 127.0.0.1:0 }
`,
  )
  const gw = await startCli(t, ['--config', file], ['reverse'])
  for (const method of ['GET', 'POST', 'DELETE'] as const) {
    const r = await request(`${gw.urls.reverse}/maintenance/some/page`, {
      method,
      body: method === 'GET' ? null : 'x',
    })
    assert.equal(r.statusCode, 503, method)
    assert.equal(r.headers['retry-after'], '120')
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(r.headers['x-route'], 'maintenance')
    assert.equal(await r.body.text(), 'back soon\n')
  }
  const head = await request(`${gw.urls.reverse}/maintenance`, { method: 'HEAD' })
  assert.equal(head.statusCode, 503)
  assert.equal(await head.body.text(), '')
  const health = await request(`${gw.urls.reverse}/healthz`)
  assert.equal(health.statusCode, 200)
  assert.equal(health.headers['content-type'], 'application/json')
  assert.deepEqual(await health.body.json(), { ok: true })
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.route === '/healthz')
  assert.equal(line.status, 200)
  assert.equal(await gw.stop(), 0)
})
