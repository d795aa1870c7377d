// Issue 21: the forward proxy's errors go through Fastify's error handler as coded errors, for
// absolute-form requests and for CONNECT before the tunnel is established (the bridge's ServerResponse).
import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { test } from 'node:test'
import { isProxyError } from '@proxykit/core'
import { assertErrorBody } from '@proxykit/core/testing'
import type { FastifyError } from 'fastify'
import { send, startProxy } from './helpers.js'

async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1')
  await new Promise((r) => s.once('listening', r))
  const { port } = s.address() as AddressInfo
  await new Promise((r) => s.close(r))
  return port
}

test('the app’s setErrorHandler answers absolute-form and CONNECT errors with the coded error', async (t) => {
  const port = await closedPort()
  const seen: string[] = []
  const proxy = await startProxy({ connectPorts: [port] }, (app) => {
    app.setErrorHandler(async (err: FastifyError, _request, reply) => {
      assert.ok(isProxyError(err), `a coded error, got ${err.code}`)
      seen.push(`${err.code} ${err.statusCode}`)
      await new Promise((r) => setTimeout(r, 5))
      return reply.code(err.statusCode!).header('x-handled', 'app').send({ failed: err.code })
    })
  })
  t.after(() => proxy.app.close())
  const get = await send(
    proxy.port,
    `GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(get.statusCode, 502)
  assert.equal(get.headers['x-handled'], 'app')
  assert.deepEqual(JSON.parse(get.body.toString()), { failed: 'PK_BAD_GATEWAY' })
  const tunnel = await send(
    proxy.port,
    `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
  )
  assert.equal(tunnel.statusCode, 502)
  assert.equal(tunnel.headers['x-handled'], 'app')
  assert.deepEqual(JSON.parse(tunnel.body.toString()), { failed: 'PK_BAD_GATEWAY' })
  const port25 = await send(proxy.port, 'CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n')
  assert.equal(port25.statusCode, 403)
  assert.deepEqual(JSON.parse(port25.body.toString()), { failed: 'PK_FORBIDDEN' })
  assert.deepEqual(seen, ['PK_BAD_GATEWAY 502', 'PK_BAD_GATEWAY 502', 'PK_FORBIDDEN 403'])
})

test('without one, a refused tunnel gets Fastify’s JSON error body', async (t) => {
  const port = await closedPort()
  const proxy = await startProxy({ connectPorts: [port] })
  t.after(() => proxy.app.close())
  const tunnel = await send(
    proxy.port,
    `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
  )
  assert.equal(tunnel.statusCode, 502)
  assert.match(String(tunnel.headers['content-type']), /^application\/json/)
  assertErrorBody(tunnel.body, { statusCode: 502, code: 'PK_BAD_GATEWAY', message: /ECONNREFUSED/ })
})
