// Issue 21: access control's refusals (401, 407, 403, 429) go through Fastify's error handler as coded
// errors, and the headers each status needs (WWW-Authenticate, Proxy-Authenticate, Retry-After) survive
// an app's own handler.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isProxyError } from '@proxykit/core'
import { assertErrorBody } from '@proxykit/core/testing'
import type { FastifyError } from 'fastify'
import { hashPassword } from '../src/index.js'
import { basic, forwardGet, send, startApp } from './helpers.js'

async function app(handler: boolean) {
  const seen: string[] = []
  const proxy = await startApp(
    {
      rules: [
        { name: 'no-admin', action: 'deny', paths: ['/admin'] },
        { name: 'users', action: 'allow', users: ['*'], rateLimit: { max: 1, timeWindow: '1 minute' } },
      ],
      auth: { realm: 'corp', users: { alice: await hashPassword('pw', { N: 1024 }) } },
    },
    (app) => {
      app.get('/page', async () => 'page')
    },
    {
      before: (app) => {
        if (handler)
          app.setErrorHandler(async (err: FastifyError, _request, reply) => {
            assert.ok(isProxyError(err), `a coded error, got ${err.code}`)
            seen.push(err.code)
            return reply.code(err.statusCode!).send({ refused: err.code })
          })
      },
    },
  )
  return { proxy, seen }
}

for (const handler of [false, true]) {
  test(`401, 403, 407 and 429 ${handler ? 'through the app’s setErrorHandler' : 'as Fastify’s JSON'}, with their headers`, async (t) => {
    const { proxy, seen } = await app(handler)
    t.after(() => proxy.app.close())
    const body = (res: { body: Buffer }, statusCode: number, code: string) => {
      if (handler) assert.deepEqual(JSON.parse(res.body.toString()), { refused: code })
      else assertErrorBody(res.body, { statusCode, code, message: /./ })
    }
    const origin = await send(proxy.port, 'GET /page HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
    assert.equal(origin.statusCode, 401)
    assert.match(origin.headers['www-authenticate'] ?? '', /^Basic realm="corp"/)
    body(origin, 401, 'PK_UNAUTHORIZED')

    const forward = await send(proxy.port, forwardGet('http://127.0.0.1:1/x'))
    assert.equal(forward.statusCode, 407)
    assert.match(forward.headers['proxy-authenticate'] ?? '', /^Basic realm="corp"/)
    body(forward, 407, 'PK_PROXY_AUTH_REQUIRED')

    const alice = basic('alice', 'pw')
    const admin = await send(
      proxy.port,
      `GET /admin HTTP/1.1\r\nHost: a\r\nAuthorization: ${alice}\r\nConnection: close\r\n\r\n`,
    )
    assert.equal(admin.statusCode, 403)
    body(admin, 403, 'PK_FORBIDDEN')

    const page = `GET /page HTTP/1.1\r\nHost: a\r\nAuthorization: ${alice}\r\nConnection: close\r\n\r\n`
    assert.equal((await send(proxy.port, page)).statusCode, 200)
    const limited = await send(proxy.port, page)
    assert.equal(limited.statusCode, 429)
    assert.match(limited.headers['retry-after'] ?? '', /^\d+$/)
    body(limited, 429, 'PK_TOO_MANY_REQUESTS')
    if (handler)
      assert.deepEqual(seen, [
        'PK_UNAUTHORIZED',
        'PK_PROXY_AUTH_REQUIRED',
        'PK_FORBIDDEN',
        'PK_TOO_MANY_REQUESTS',
      ])
  })
}
