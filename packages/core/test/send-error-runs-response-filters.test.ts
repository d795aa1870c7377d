// sendError passes its answer through request.proxy.responseFilters like an upstream response, before and
// after reply.hijack(), so a cache can add Cache-Status to a proxy's own 502/504 or answer stale-if-error
// instead.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { BadGatewayError, installProxyContext, ServiceUnavailableError, sendError } from '../src/index.js'
import { assertErrorBody } from '../src/testing/index.js'

for (const hijacked of [false, true]) {
  test(`sendError (${hijacked ? 'hijacked' : 'not hijacked'}) runs the response filters, which may rewrite the answer`, async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    installProxyContext(app)
    app.get('/seen', (request, reply) => {
      request.proxy.responseFilters.push((_req, response) => {
        response.headers['x-filter-saw'] = `${response.statusCode} ${response.headers['retry-after']}`
      })
      if (hijacked) reply.hijack()
      sendError(reply, new ServiceUnavailableError('draining'), { 'Retry-After': '5' })
    })
    app.get('/replaced', (request, reply) => {
      request.proxy.responseFilters.push((_req, response) => {
        response.body?.resume()
        response.statusCode = 200
        response.headers = { 'content-length': 0 }
        response.body = null
      })
      if (hijacked) reply.hijack()
      sendError(reply, new BadGatewayError('unreachable'))
    })
    app.get('/none', (_request, reply) => {
      if (hijacked) reply.hijack()
      sendError(reply, new BadGatewayError('unreachable'))
    })
    const seen = await app.inject('/seen')
    assert.equal(seen.statusCode, 503)
    assert.equal(seen.headers['x-filter-saw'], '503 5')
    assert.equal(seen.headers['retry-after'], '5')
    assertErrorBody(seen.body, {
      statusCode: 503,
      code: 'PK_SERVICE_UNAVAILABLE',
      message: 'Service unavailable: draining',
    })
    const replaced = await app.inject('/replaced')
    assert.equal(replaced.statusCode, 200)
    assert.equal(replaced.body, '')
    const none = await app.inject('/none')
    assert.equal(none.statusCode, 502)
    assertErrorBody(none.body, {
      statusCode: 502,
      code: 'PK_BAD_GATEWAY',
      message: 'Bad gateway: unreachable',
    })
  })
}
