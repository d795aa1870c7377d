// Requests whose framing or routing is ambiguous must never reach a handler (request smuggling, RFC 9112
// §6.3 and §3.2). Node's parser (llhttp) refuses most of them before Fastify sees the request; core refuses
// a second Host line. Each case asserts what actually happens on a real server, byte for byte.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { installProxyContext } from '../src/index.js'
import { assertErrorBody, rawRequest } from '../src/testing/index.js'

async function server() {
  const fastify = Fastify()
  installProxyContext(fastify)
  let handled = 0
  fastify.all('/*', async (request) => {
    handled++
    return { host: request.proxy.host, body: request.body ?? null }
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  return {
    fastify,
    port: (fastify.server.address() as { port: number }).port,
    handled: () => handled,
  }
}

const CASES: [string, string][] = [
  ['two Host lines', 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n'],
  ['two Host lines, same value', 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n'],
  [
    'two differing Content-Length',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
  ],
  [
    'two equal Content-Length',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
  ],
  ['Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd'],
  [
    'Content-Length with Transfer-Encoding',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  ],
  [
    'Transfer-Encoding twice',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'Transfer-Encoding not ending in chunked',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n',
  ],
  ['obs-fold continuation line', 'GET / HTTP/1.1\r\nHost: a\r\nX-Foo: one\r\n two\r\n\r\n'],
  ['obs-fold on Host', 'GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n'],
  ['space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
  ['space inside a field name', 'GET / HTTP/1.1\r\nHost: a\r\nX Foo: b\r\n\r\n'],
  ['bare LF line endings', 'GET / HTTP/1.1\nHost: a\n\n'],
  ['NUL in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n'],
  ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n'],
  ['signed Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc'],
  ['hex Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc'],
  [
    'Transfer-Encoding: xchunked',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'Transfer-Encoding: chunked, chunked',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'vertical tab before chunked',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'bad chunk size',
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n',
  ],
  ['bare CR in a field value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n'],
  ['Host with a path', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n'],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n'],
]

for (const [name, bytes] of CASES) {
  test(`${name} → 400 and the handler never runs`, async (t) => {
    const s = await server()
    t.after(() => s.fastify.close())
    const res = await rawRequest(s.port, bytes)
    assert.equal(res.statusCode, 400, res.text)
    assert.equal(s.handled(), 0)
  })
}

// Node hands these to Fastify before it finds out that the body cannot be framed (RFC 9112 §6.3): core
// answers before any handler could start forwarding them, and closes the connection.
for (const te of ['gzip', 'xchunked', 'identity', 'chunked;q=1']) {
  test(`Transfer-Encoding: ${te} gets core’s 400 and the connection is closed`, async (t) => {
    const s = await server()
    t.after(() => s.fastify.close())
    const res = await rawRequest(
      s.port,
      `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${te}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    )
    assert.equal(res.statusCode, 400, res.text)
    // Only the first answer: the unframed body that follows is read as another (refused) request.
    assertErrorBody(res.body.subarray(0, Number(res.headers['content-length'])), {
      statusCode: 400,
      code: 'PK_BAD_REQUEST',
      message: 'Bad request: Transfer-Encoding must end in chunked',
    })
    assert.equal(res.headers.connection, 'close')
    assert.equal(s.handled(), 0)
  })
}

for (const [first, second] of [
  ['Host', 'host'],
  ['HOST', 'hOsT'],
]) {
  test(`two Host lines (${first}, ${second}) get core’s clear body`, async (t) => {
    const s = await server()
    t.after(() => s.fastify.close())
    const res = await rawRequest(s.port, `GET / HTTP/1.1\r\n${first}: a.test\r\n${second}: b.test\r\n\r\n`)
    assert.equal(res.statusCode, 400)
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    assertErrorBody(res.body, {
      statusCode: 400,
      code: 'PK_BAD_HOST',
      message: 'Bad Host header: more than one Host header',
    })
    assert.equal(s.handled(), 0)
  })
}

test('four-letter names that are not Host (Hoss, Gost, Hosu) are not counted as a second Host', async (t) => {
  const s = await server()
  t.after(() => s.fastify.close())
  const res = await rawRequest(
    s.port,
    'GET / HTTP/1.1\r\nHost: a.test\r\nHoss: 1\r\nGost: 2\r\nHosu: 3\r\nConnection: close\r\n\r\n',
  )
  assert.equal(res.statusCode, 200, res.text)
  assert.equal(s.handled(), 1)
})

test('unusual but unambiguous framing (tab before the value, a chunk extension) is read as what it says', async (t) => {
  const s = await server()
  t.after(() => s.fastify.close())
  const res = await rawRequest(
    s.port,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nTransfer-Encoding:\tchunked\r\nConnection: close\r\n\r\n' +
      '3;ext=1\r\nabc\r\n0\r\n\r\n',
  )
  assert.equal(res.statusCode, 200)
  assert.deepEqual(JSON.parse(res.body.toString()), { host: 'a', body: 'abc' })
  assert.equal(s.handled(), 1)
})

test('bytes after a Connection: close message are refused, never served as a second request', async (t) => {
  const s = await server()
  t.after(() => s.fastify.close())
  const res = await rawRequest(
    s.port,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\n' +
      'abcGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
  )
  // llhttp refuses data after a Connection: close message; the client gets that 400 and nothing else
  // (the first message may already have been dispatched, but its answer is never written).
  assert.equal(res.statusCode, 400, res.text)
  assert.equal([...res.text.matchAll(/^HTTP\/1\.1 \d{3}/gm)].length, 1, res.text)
  assert.ok(s.handled() <= 1)
})

test('a well-formed request on the same server is handled (the cases above fail for their bytes)', async (t) => {
  const s = await server()
  t.after(() => s.fastify.close())
  const res = await rawRequest(s.port, 'GET / HTTP/1.1\r\nHost: A.Test.\r\nConnection: close\r\n\r\n')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(JSON.parse(res.body.toString()), { host: 'a.test', body: null })
  assert.equal(s.handled(), 1)
})
