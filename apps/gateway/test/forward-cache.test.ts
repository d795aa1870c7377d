import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('with forward.cache, a cacheable response through the forward proxy is served from the cache', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'cache-control': 'public, max-age=60', 'content-type': 'text/plain' })
      res.end('cached body')
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'], cache: true },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward'])
  const first = await curl(['-i', '-x', gw.urls.forward!, `${origin.url}/doc`])
  assert.match(first.stdout, /cache-status: proxykit; fwd=uri-miss.*stored/i)
  const second = await curl(['-i', '-x', gw.urls.forward!, `${origin.url}/doc`])
  assert.match(second.stdout, /cache-status: proxykit; hit/i)
  assert.match(second.stdout, /cached body$/)
  assert.equal(origin.hits, 1)
  assert.equal(await gw.stop(), 0)
})
