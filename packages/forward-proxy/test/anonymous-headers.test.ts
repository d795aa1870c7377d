import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('anonymous mode (default): the origin receives no client address, identity or hop-by-hop header', async (t) => {
  const origin = await startOrigin()
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const res = await send(
    proxy.port,
    [
      `GET http://127.0.0.1:${origin.port}/who HTTP/1.1`,
      'Host: somewhere.else',
      'X-Forwarded-For: 10.1.2.3',
      'X-Forwarded-Host: a.example',
      'X-Forwarded-Proto: https',
      'X-Real-IP: 10.1.2.3',
      'Forwarded: for=10.1.2.3',
      'Via: 1.1 upstream-cache',
      'From: user@example.com',
      'Client-IP: 10.1.2.3',
      'True-Client-IP: 10.1.2.3',
      'Proxy-Authorization: Basic dTpw',
      'Proxy-Connection: keep-alive',
      'Keep-Alive: timeout=5',
      'X-Named-By-Connection: secret',
      'Connection: close, X-Named-By-Connection',
      'User-Agent: test-agent',
      'Cookie: a=b',
      '',
      '',
    ].join('\r\n'),
  )
  assert.equal(res.statusCode, 200)
  const seen = origin.requests[0]!.headers
  for (const name of [
    'x-forwarded-for',
    'x-forwarded-host',
    'x-forwarded-proto',
    'x-real-ip',
    'forwarded',
    'via',
    'from',
    'client-ip',
    'true-client-ip',
    'proxy-authorization',
    'proxy-connection',
    'keep-alive',
    'x-named-by-connection',
  ])
    assert.equal(seen[name], undefined, `${name} reached the origin`)
  assert.equal(seen.host, `127.0.0.1:${origin.port}`)
  // What belongs to the request itself passes.
  assert.equal(seen['user-agent'], 'test-agent')
  assert.equal(seen.cookie, 'a=b')
  // No Via on the response either.
  assert.equal(res.headers.via, undefined)
})
