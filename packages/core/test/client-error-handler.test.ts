// Requests Node's parser refuses never reach Fastify's hooks; with core's clientErrorHandler they still get
// a short plain-text answer saying why, and the connection is closed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { clientErrorHandler, installProxyContext } from '../src/index.js'
import { rawRequest } from '../src/testing/index.js'

async function server() {
  const fastify = Fastify({ clientErrorHandler })
  installProxyContext(fastify)
  let handled = 0
  fastify.all('/*', async () => {
    handled++
    return 'ok'
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  return { fastify, port: (fastify.server.address() as { port: number }).port, handled: () => handled }
}

test('malformed framing gets a text/plain 400 with llhttp’s reason, then the connection closes', async (t) => {
  const s = await server()
  t.after(() => s.fastify.close())
  const cases = [
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nX-Foo: one\r\n two\r\n\r\n',
  ]
  for (const bytes of cases) {
    const res = await rawRequest(s.port, bytes)
    assert.equal(res.statusCode, 400, res.text)
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8')
    assert.equal(res.headers.connection, 'close')
    assert.match(res.body.toString(), /^Bad request: malformed HTTP message( \([^)]+\))?\n$/)
    assert.equal(res.headers['content-length'], String(res.body.length))
  }
  assert.equal(s.handled(), 0)
})

test('oversized headers get 431', async (t) => {
  const s = await server()
  t.after(() => s.fastify.close())
  const res = await rawRequest(s.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
  assert.equal(res.statusCode, 431)
  assert.equal(res.body.toString(), 'Request header fields too large\n')
})

test('a well-formed request is unaffected', async (t) => {
  const s = await server()
  t.after(() => s.fastify.close())
  const res = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
  assert.equal(res.statusCode, 200)
  assert.equal(res.body.toString(), 'ok')
})
