import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { collectText, startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('response filters on request.proxy (the cache’s store phase) see every proxied response', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' })
      res.end('from origin')
    },
  })
  t.after(() => origin.close())
  const teed: string[] = []
  const proxy = await startProxy(
    t,
    { routes: [{ upstreams: [origin.url] }] },
    {
      before: (app) => {
        app.addHook('preHandler', async (request) => {
          request.proxy.responseFilters.push((_req, response) => {
            response.headers['cache-status'] = 'test; fwd=miss'
            assert.equal(response.headers.server, undefined, 'filters see the headers the client will get')
            const body = response.body
            if (body !== null) void collectText(body).then((s) => teed.push(s))
            response.headers['content-length'] = '8'
            response.body = Readable.from([Buffer.from('replaced')])
          })
        })
      },
    },
  )
  const r = await get(client(t), `${proxy.url}/x`)
  assert.equal(r.status, 200)
  assert.equal(r.headers['cache-status'], 'test; fwd=miss')
  assert.equal(r.text, 'replaced', 'a filter may replace the body (a cache tees it)')
  assert.deepEqual(teed, ['from origin'])
})
