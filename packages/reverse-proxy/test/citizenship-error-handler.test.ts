// Issue 21: every error the reverse proxy answers goes through Fastify's encapsulated error handler as the
// coded @fastify/error: Fastify's default JSON body without one, the app's setErrorHandler with one, and
// the headers a status needs (Retry-After) survive a custom handler.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isProxyError } from '@proxykit/core'
import { assertErrorBody, startOrigin, startUnacceptingPort } from '@proxykit/core/testing'
import type { FastifyError } from 'fastify'
import { client, get, startProxy, waitUntil } from './helpers.js'

const routes = (slow: string, hang: string) => [
  { name: 'down', prefix: '/down', upstreams: ['http://127.0.0.1:1'], retries: false as const },
  { name: 'slow', prefix: '/slow', upstreams: [slow], timeouts: { headers: 200 } },
  { name: 'hang', prefix: '/hang', upstreams: [hang], timeouts: { connect: 200 }, retries: false as const },
]

test('without an error handler of the app’s: Fastify’s JSON error body with the PK_ code', async (t) => {
  const slow = await startOrigin({ handler: () => {} })
  const hang = await startUnacceptingPort()
  t.after(() => Promise.all([slow.close(), hang.close()]))
  const proxy = await startProxy(t, { routes: routes(slow.url, `http://127.0.0.1:${hang.port}`) })
  const agent = client(t)
  const down = await get(agent, `${proxy.url}/down/x`)
  assert.equal(down.status, 502)
  assert.match(String(down.headers['content-type']), /^application\/json/)
  assertErrorBody(down.text, {
    statusCode: 502,
    code: 'PK_BAD_GATEWAY',
    message: 'Bad gateway: the upstream refused the connection',
  })
  const timeout = await get(agent, `${proxy.url}/slow/x`)
  assert.equal(timeout.status, 504)
  assertErrorBody(timeout.text, {
    statusCode: 504,
    code: 'PK_GATEWAY_TIMEOUT',
    message: 'Gateway timeout: the upstream did not answer within 200 ms',
  })
  const dot = await get(agent, `${proxy.url}/down/..%2fadmin`)
  assert.equal(dot.status, 400)
  assertErrorBody(dot.text, { statusCode: 400, code: 'PK_BAD_REQUEST', message: /dot-segment/ })
})

test('the app’s setErrorHandler answers every proxy error, with the coded error and its headers', async (t) => {
  const slow = await startOrigin({ handler: () => {} })
  const hang = await startUnacceptingPort()
  t.after(() => Promise.all([slow.close(), hang.close()]))
  const seen: string[] = []
  const proxy = await startProxy(
    t,
    {
      routes: [
        ...routes(slow.url, `http://127.0.0.1:${hang.port}`),
        // Failing its active checks: no upstream is available, a 503 with Retry-After.
        {
          name: 'none',
          prefix: '/none',
          upstreams: ['http://127.0.0.1:1'],
          healthCheck: { intervalMs: 20, timeoutMs: 500, fall: 1, rise: 1 },
        },
      ],
    },
    {
      before: (app) => {
        app.setErrorHandler(async (err: FastifyError, _request, reply) => {
          assert.ok(isProxyError(err), `a coded error, got ${err.code}`)
          seen.push(`${err.code} ${err.statusCode}`)
          // An async handler that answers in its own shape.
          await new Promise((r) => setTimeout(r, 5))
          return reply.code(err.statusCode!).send({ failed: err.code })
        })
      },
    },
  )
  const agent = client(t)
  const down = await get(agent, `${proxy.url}/down/x`)
  assert.equal(down.status, 502)
  assert.deepEqual(JSON.parse(down.text), { failed: 'PK_BAD_GATEWAY' })
  const timeout = await get(agent, `${proxy.url}/slow/x`)
  assert.equal(timeout.status, 504)
  assert.deepEqual(JSON.parse(timeout.text), { failed: 'PK_GATEWAY_TIMEOUT' })
  const connect = await get(agent, `${proxy.url}/hang/x`)
  assert.equal(connect.status, 504)
  // Liveness bound only: the checks run in the background.
  await waitUntil(() => proxy.app.reverseProxy.upstreams('none')[0]!.state === 'unhealthy', 250, 20)
  const none = await get(agent, `${proxy.url}/none/x`)
  assert.equal(none.status, 503)
  assert.deepEqual(JSON.parse(none.text), { failed: 'PK_SERVICE_UNAVAILABLE' })
  assert.match(String(none.headers['retry-after']), /^\d+$/, 'Retry-After survives the custom handler')
  assert.deepEqual(seen, [
    'PK_BAD_GATEWAY 502',
    'PK_GATEWAY_TIMEOUT 504',
    'PK_GATEWAY_TIMEOUT 504',
    'PK_SERVICE_UNAVAILABLE 503',
  ])
})
