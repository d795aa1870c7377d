// Http1Pool reads each response body exactly as its head frames it (RFC 9112 §6.3): by Content-Length,
// chunked, to the close, or not at all (HEAD, 204, 304), and skips interim 1xx responses.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fetchVia, ok, poolFor, startRawOrigin } from './http1-helpers.js'

async function setup(t: { after(fn: () => unknown): void }, answers: string[]) {
  const origin = await startRawOrigin((req) => answers[req.index])
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  return { origin, pool }
}

test('a Content-Length body is read to its length', async (t) => {
  const { pool } = await setup(t, [ok('hello world', 'x-a: 1\r\n')])
  const r = await fetchVia(pool)
  assert.equal(r.error, null)
  assert.equal(r.statusCode, 200)
  assert.equal(r.statusMessage, 'OK')
  assert.equal(r.headers['x-a'], '1')
  assert.equal(r.body.toString(), 'hello world')
})

test('a chunked body with chunk extensions and a trailer section is decoded', async (t) => {
  const { origin, pool } = await setup(t, [
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' +
      '5;name=value\r\nhello\r\n1 ; a="b"\r\n \r\nA\r\n0123456789\r\n0\r\nx-trailer: t\r\n\r\n',
    ok('next'),
  ])
  const r = await fetchVia(pool)
  assert.equal(r.error, null)
  assert.equal(r.body.toString(), 'hello 0123456789')
  const next = await fetchVia(pool)
  assert.equal(next.body.toString(), 'next')
  assert.equal(origin.connections, 1)
})

test('a body without Content-Length or chunked runs to the close', async (t) => {
  const origin = await startRawOrigin((req) => {
    req.socket.end('HTTP/1.1 200 OK\r\nx-by: close\r\n\r\neverything until the end')
    return undefined
  })
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const r = await fetchVia(pool)
  assert.equal(r.error, null)
  assert.equal(r.ends, 1)
  assert.equal(r.body.toString(), 'everything until the end')
})

test('HEAD is answered with Content-Length but no body, and the connection carries the next request', async (t) => {
  const { origin, pool } = await setup(t, [
    'HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n',
    ok('after head'),
  ])
  const head = await fetchVia(pool, { method: 'HEAD' })
  assert.equal(head.error, null)
  assert.equal(head.headers['content-length'], '1234')
  assert.equal(head.body.length, 0)
  const next = await fetchVia(pool)
  assert.equal(next.error, null)
  assert.equal(next.body.toString(), 'after head')
  assert.equal(origin.connections, 1)
})

test('204 and 304 have no body even with a Content-Length', async (t) => {
  const { origin, pool } = await setup(t, [
    'HTTP/1.1 204 No Content\r\n\r\n',
    'HTTP/1.1 304 Not Modified\r\ncontent-length: 50\r\netag: "x"\r\n\r\n',
    ok('third'),
  ])
  const a = await fetchVia(pool)
  const b = await fetchVia(pool)
  const c = await fetchVia(pool)
  assert.deepEqual([a.error, a.statusCode, a.body.length], [null, 204, 0])
  assert.deepEqual([b.error, b.statusCode, b.body.length, b.headers.etag], [null, 304, 0, '"x"'])
  assert.deepEqual([c.error, c.body.toString()], [null, 'third'])
  assert.equal(origin.connections, 1)
})

test('103 Early Hints and 100 Continue before the final response are skipped', async (t) => {
  const { pool } = await setup(t, [
    'HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n' +
      'HTTP/1.1 100 Continue\r\n\r\n' +
      ok('final', 'x-final: yes\r\n'),
  ])
  const r = await fetchVia(pool)
  assert.equal(r.error, null)
  assert.equal(r.starts, 1)
  assert.equal(r.statusCode, 200)
  assert.equal(r.headers['x-final'], 'yes')
  assert.equal(r.headers.link, undefined)
  assert.equal(r.body.toString(), 'final')
})
