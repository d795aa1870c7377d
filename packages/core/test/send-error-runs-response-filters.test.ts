// After reply.hijack(), sendError passes its answer through request.proxy.responseFilters like an upstream
// response, so a cache can add Cache-Status to a proxy's own 502/504 or answer stale-if-error instead.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { BadGatewayError, installProxyContext, ServiceUnavailableError, sendError } from '../src/index.js'

test('a hijacked sendError runs the response filters, which may rewrite the answer', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  installProxyContext(app)
  app.get('/seen', (request, reply) => {
    request.proxy.responseFilters.push((_req, response) => {
      response.headers['x-filter-saw'] = `${response.statusCode} ${response.headers['retry-after']}`
    })
    reply.hijack()
    sendError(reply, new ServiceUnavailableError('draining'), { 'Retry-After': '5' })
  })
  app.get('/replaced', (request, reply) => {
    request.proxy.responseFilters.push((_req, response) => {
      response.body?.resume()
      response.statusCode = 200
      response.headers = { 'content-length': 0 }
      response.body = null
    })
    reply.hijack()
    sendError(reply, new BadGatewayError('unreachable'))
  })
  app.get('/none', (_request, reply) => {
    reply.hijack()
    sendError(reply, new BadGatewayError('unreachable'))
  })
  const seen = await app.inject('/seen')
  assert.equal(seen.statusCode, 503)
  assert.equal(seen.headers['x-filter-saw'], '503 5')
  assert.equal(seen.headers['retry-after'], '5')
  assert.equal(seen.body, 'Service unavailable: draining\n')
  const replaced = await app.inject('/replaced')
  assert.equal(replaced.statusCode, 200)
  const none = await app.inject('/none')
  assert.equal(none.statusCode, 502)
  assert.equal(none.body, 'Bad gateway: unreachable\n')
})
