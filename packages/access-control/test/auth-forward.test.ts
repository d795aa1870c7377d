import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin, startTcpOrigin } from '@proxykit/core/testing'
import { hashPassword } from '../src/index.js'
import { basic, forwardGet, send, startApp } from './helpers.js'

test('forward requests: 407 without or with wrong Proxy-Authorization, 200 with it, never passed on', async (t) => {
  const origin = await startOrigin()
  const proxy = await startApp({
    rules: [{ name: 'users', action: 'allow', users: ['*'] }],
    auth: { realm: 'corp', users: { alice: await hashPassword('s3cret', { N: 1024 }) } },
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const target = `${origin.url}/page`

  const missing = await send(proxy.port, forwardGet(target))
  assert.equal(missing.statusCode, 407)
  assert.match(missing.headers['proxy-authenticate'] ?? '', /^Basic realm="corp"/)

  for (const bad of [
    basic('alice', 'wrong'),
    basic('mallory', 's3cret'),
    'Basic !!!',
    'Digest x=1',
    'Basic',
  ]) {
    const res = await send(proxy.port, forwardGet(target, { 'Proxy-Authorization': bad }))
    assert.equal(res.statusCode, 407, bad)
  }
  // Authorization is the origin's business, not the proxy's: it does not authenticate to the proxy.
  const wrongHeader = await send(proxy.port, forwardGet(target, { Authorization: basic('alice', 's3cret') }))
  assert.equal(wrongHeader.statusCode, 407)
  assert.equal(origin.hits, 0)

  const ok = await send(
    proxy.port,
    forwardGet(target, {
      'Proxy-Authorization': basic('alice', 's3cret'),
      Authorization: 'Bearer for-the-origin',
    }),
  )
  assert.equal(ok.statusCode, 200)
  assert.equal(origin.hits, 1)
  const seen = origin.requests[0]!
  assert.equal(seen.headers['proxy-authorization'], undefined)
  assert.ok(!seen.rawHeaders.some((h) => /s3cret|YWxpY2U6czNjcmV0/.test(h)))
  // the origin's own credentials are not ours to remove
  assert.equal(seen.headers.authorization, 'Bearer for-the-origin')
})

test('CONNECT: 407 without or with wrong credentials, the tunnel opens with right ones', async (t) => {
  const echo = await startTcpOrigin()
  const proxy = await startApp(
    {
      rules: [{ action: 'allow', users: ['bob'] }],
      auth: { users: { bob: await hashPassword('pw', { N: 1024 }) } },
    },
    undefined,
    { connectPorts: [echo.port] },
  )
  t.after(() => Promise.all([proxy.app.close(), echo.close()]))
  const connect = (extra: string) =>
    send(
      proxy.port,
      `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n${extra}\r\nhello`,
    )

  const missing = await connect('')
  assert.equal(missing.statusCode, 407)
  assert.match(missing.headers['proxy-authenticate'] ?? '', /^Basic realm="proxykit"/)
  const wrong = await connect(`Proxy-Authorization: ${basic('bob', 'nope')}\r\n`)
  assert.equal(wrong.statusCode, 407)
  assert.equal(echo.connections, 0)
  const ok = await connect(`Proxy-Authorization: ${basic('bob', 'pw')}\r\n`)
  assert.equal(ok.statusCode, 200)
  assert.equal(ok.body.toString(), 'hello')
  // The tunnel carries only the client's bytes: the CONNECT head (with its credentials) stays here.
  assert.equal(Buffer.concat(echo.received[0]!).toString(), 'hello')
})

test('bearer tokens in Proxy-Authorization; groups from the configuration', async (t) => {
  const origin = await startOrigin()
  const token = 'tok_0123456789abcdef'
  const proxy = await startApp({
    rules: [
      { name: 'robots-no-admin', action: 'deny', groups: ['robots'], paths: ['/admin'] },
      { name: 'robots', action: 'allow', groups: ['robots'] },
    ],
    auth: { tokens: { [token]: 'ci-bot' }, groups: { robots: ['ci-bot'] } },
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const get = (path: string, value?: string) =>
    send(proxy.port, forwardGet(`${origin.url}${path}`, value ? { 'Proxy-Authorization': value } : {}))

  const none = await get('/x')
  assert.equal(none.statusCode, 407)
  assert.match(none.headers['proxy-authenticate'] ?? '', /Bearer realm="proxykit"/)
  assert.equal((await get('/x', 'Bearer tok_wrong_wrong_wrong')).statusCode, 407)
  assert.equal((await get('/x', `Bearer ${token}`)).statusCode, 200)
  const admin = await get('/ADMIN/panel', `Bearer ${token}`)
  assert.equal(admin.statusCode, 403)
  assert.match(admin.body.toString(), /robots-no-admin/)
  assert.equal(origin.hits, 1)
})
