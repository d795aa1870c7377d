import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('a cacheable response is served from the cache the second time (origin hit once)', async (t) => {
  let n = 0
  const origin = await startOrigin({
    handler: (_req, res) => {
      n++
      res.writeHead(200, { 'cache-control': 'public, max-age=60', 'content-type': 'text/plain' })
      res.end(`version ${n}`)
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        { name: 'cached', prefix: '/c', upstreams: [origin.url], cache: true },
        { name: 'plain', prefix: '/p', upstreams: [origin.url] },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const first = await fetch(`${gw.urls.reverse}/c/page`)
  assert.equal(await first.text(), 'version 1')
  assert.match(first.headers.get('cache-status') ?? '', /stored/)
  const second = await fetch(`${gw.urls.reverse}/c/page`)
  assert.equal(await second.text(), 'version 1')
  assert.match(second.headers.get('cache-status') ?? '', /proxykit; hit/)
  assert.equal(origin.hits, 1)
  const line = await gw.waitForLog((l) => l.msg === 'access' && /hit/.test(String(l.cache)))
  assert.equal(line.upstream, null, 'a hit never reaches an upstream')

  // A route without `cache: true` is not cached, even for a cacheable response.
  assert.equal(await (await fetch(`${gw.urls.reverse}/p/page`)).text(), 'version 2')
  assert.equal(await (await fetch(`${gw.urls.reverse}/p/page`)).text(), 'version 3')
  assert.equal(origin.hits, 3)
  assert.equal(await gw.stop(), 0)
})
