// cache.targetedCacheControl: the reverse listener's cache obeys CDN-Cache-Control (RFC 9213) over
// Cache-Control, which still goes to the client unchanged.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('CDN-Cache-Control: max-age=60 is stored on a reverse route over Cache-Control: no-store', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' })
      res.end('page')
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ name: 'site', prefix: '/', upstreams: [origin.url], cache: true }],
    },
    cache: { targetedCacheControl: ['CDN-Cache-Control'] },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const first = await fetch(`${gw.urls.reverse}/page`)
  assert.equal(await first.text(), 'page')
  assert.match(first.headers.get('cache-status') ?? '', /stored/)
  const second = await fetch(`${gw.urls.reverse}/page`)
  assert.equal(await second.text(), 'page')
  assert.match(second.headers.get('cache-status') ?? '', /proxykit; hit/)
  assert.equal(second.headers.get('cache-control'), 'no-store')
  assert.equal(origin.hits, 1)
  assert.equal(await gw.stop(), 0)
})
