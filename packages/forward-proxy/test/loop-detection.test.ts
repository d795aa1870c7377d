import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('a request whose Via already names us is refused with 508, in both modes and for CONNECT', async (t) => {
  const origin = await startOrigin()
  const anonymous = await startProxy({ pseudonym: 'loop-me', connectPorts: [origin.port] })
  const transparent = await startProxy({ mode: 'transparent', pseudonym: 'loop-me-too' })
  t.after(() => Promise.all([anonymous.app.close(), transparent.app.close(), origin.close()]))

  const a = await send(
    anonymous.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nVia: 1.1 other, 1.1 LOOP-ME (comment, with comma)\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(a.statusCode, 508)
  assert.match(a.text, /loop/i)
  const c = await send(
    anonymous.port,
    `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nVia: 1.1 loop-me\r\n\r\n`,
  )
  assert.equal(c.statusCode, 508)
  const b = await send(
    transparent.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nVia: 1.1 loop-me-too\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(b.statusCode, 508)
  assert.equal(origin.hits, 0)
})

test('a target that is the proxy itself is a loop, even in anonymous mode where Via is not sent', async (t) => {
  const proxy = await startProxy()
  t.after(() => proxy.app.close())
  const res = await send(
    proxy.port,
    `GET http://127.0.0.1:${proxy.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 508)
})
