import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

const TOKEN = 'purge-count-token'

// Issue 26 item 10: POST /purge answered the same whether anything matched; it says how many entries went.
test('POST /purge answers how many cache entries it removed (0 when nothing matched)', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      res.writeHead(200, { 'cache-control': 'public, max-age=600', 'cache-tag': 'pages' })
      res.end(`page ${req.url}`)
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ name: 'web', upstreams: [origin.url], cache: true }] },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  for (const path of ['/a', '/b', '/a']) {
    const res = await request(`${gw.urls.reverse}${path}`)
    await res.body.dump()
  }
  assert.equal(origin.hits, 2, '/a was stored and hit')
  const purge = async (body: object) => {
    const res = await fetch(`${gw.urls.admin}/purge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    assert.equal(res.status, 200)
    return ((await res.json()) as { ok: boolean; result: { removed: number } }).result.removed
  }
  const host = new URL(gw.urls.reverse!).host
  assert.equal(await purge({ url: `http://${host}/a` }), 1)
  assert.equal(await purge({ url: `http://${host}/a` }), 0, 'already purged')
  assert.equal(await purge({ url: `http://${host}/never` }), 0)
  assert.equal(await purge({ tag: 'pages' }), 1, '/b is left under the tag')
  assert.equal(await purge({ tag: 'pages' }), 0)
  assert.equal(await gw.stop(), 0)
})
