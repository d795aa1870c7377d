import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin, startTcpOrigin } from '@proxykit/core/testing'
import { forwardGet, send, startApp } from './helpers.js'

test('forward traffic limited per destination: one busy site does not use up another', async (t) => {
  const a = await startOrigin({ host: '127.0.0.1' })
  const b = await startOrigin({ host: '127.0.0.1' })
  const proxy = await startApp({
    rules: [
      {
        name: 'web',
        action: 'allow',
        forms: ['absolute'],
        rateLimit: { max: 2, timeWindow: 60_000, key: 'destination' },
      },
    ],
  })
  t.after(() => Promise.all([proxy.app.close(), a.close(), b.close()]))
  const statuses = []
  for (const origin of [a, a, a, b])
    statuses.push((await send(proxy.port, forwardGet(`${origin.url}/`))).statusCode)
  assert.deepEqual(statuses, [200, 200, 429, 200])
  assert.equal(a.hits, 2)
  assert.equal(b.hits, 1)
})

test('CONNECT tunnels are rate limited too: 429 with Retry-After, no connection made', async (t) => {
  const echo = await startTcpOrigin()
  const proxy = await startApp(
    { rules: [{ name: 'tunnels', action: 'allow', rateLimit: { max: 2, timeWindow: 60_000 } }] },
    undefined,
    { connectPorts: [echo.port] },
  )
  t.after(() => Promise.all([proxy.app.close(), echo.close()]))
  const connect = () =>
    send(proxy.port, `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\nx`, 1500)
  assert.equal((await connect()).statusCode, 200)
  assert.equal((await connect()).statusCode, 200)
  const third = await connect()
  assert.equal(third.statusCode, 429)
  assert.ok(Number(third.headers['retry-after']) >= 1)
  assert.equal(echo.connections, 2)
})
