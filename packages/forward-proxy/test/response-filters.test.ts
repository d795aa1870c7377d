import assert from 'node:assert/strict'
import { test } from 'node:test'
import { installProxyContext, type ProxyContext } from '@proxykit/core'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('proxied responses run request.proxy.responseFilters, and the request records direction and upstream', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': 15,
        'x-origin': 'yes',
        connection: 'close, x-origin',
      })
      res.end('from the origin')
    },
  })
  const contexts: ProxyContext[] = []
  const proxy = await startProxy({}, (app) => {
    installProxyContext(app)
    app.addHook('preHandler', async (request) => {
      contexts.push(request.proxy)
      request.proxy.responseFilters.push((_request, response) => {
        // What a cache sees: hop-by-hop headers (and what Connection named) already gone.
        response.headers['x-filter-saw-x-origin'] = String(response.headers['x-origin'] !== undefined)
        response.headers['cache-status'] = 'test; fwd=miss'
      })
    })
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const res = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 200)
  assert.equal(res.body.toString(), 'from the origin')
  assert.equal(res.headers['cache-status'], 'test; fwd=miss')
  assert.equal(res.headers['x-filter-saw-x-origin'], 'false')
  assert.equal(contexts.length, 1)
  assert.equal(contexts[0]!.direction, 'forward')
  assert.deepEqual(contexts[0]!.upstream, { url: `http://127.0.0.1:${origin.port}`, attempts: 1 })
})
