import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('the reverse listener balances round robin over two upstreams', async (t) => {
  const a = await startOrigin()
  const b = await startOrigin()
  t.after(() => Promise.all([a.close(), b.close()]))
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ name: 'api', prefix: '/api', upstreams: [a.url, b.url] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`${gw.urls.reverse}/api/item/${i}`)
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { url: string }).url, `/api/item/${i}`)
  }
  assert.equal(a.hits, 3)
  assert.equal(b.hits, 3)
  // Outside every route: 404, no upstream touched.
  assert.equal((await fetch(`${gw.urls.reverse}/elsewhere`)).status, 404)
  assert.equal(a.hits + b.hits, 6)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.listener === 'reverse' && l.status === 200)
  assert.equal(line.route, 'api')
  assert.ok(line.upstream === a.url || line.upstream === b.url)
  assert.equal(line.attempts, 1)
  assert.equal(await gw.stop(), 0)
})
