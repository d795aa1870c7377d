import assert from 'node:assert/strict'
import { test } from 'node:test'
import rateLimit from '@fastify/rate-limit'
import { startTcpOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('@fastify/rate-limit answers 429 on the third tunnel: CONNECT runs through every onRequest hook', async (t) => {
  const origin = await startTcpOrigin()
  const proxy = await startProxy({ connectPorts: [origin.port] }, async (app) => {
    await app.register(rateLimit, { max: 2, timeWindow: 60_000 })
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const open = () =>
    send(proxy.port, `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\nhi`)
  const first = await open()
  const second = await open()
  const third = await open()
  assert.equal(first.statusCode, 200)
  assert.equal(first.body.toString(), 'hi')
  assert.equal(second.statusCode, 200)
  assert.equal(third.statusCode, 429)
  assert.equal(origin.connections, 2)
})
