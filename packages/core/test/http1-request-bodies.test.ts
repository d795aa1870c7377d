// Http1Pool frames request bodies itself: chunked when the length is unknown, as-is with a
// Content-Length, with backpressure, and never reusing a connection whose body fell short.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { patternStream, startOrigin } from '../src/testing/index.js'
import { codeOf, fetchVia, ok, poolFor, startRawOrigin } from './http1-helpers.js'

test('a body of unknown length is sent chunked, byte for byte', async (t) => {
  const origin = await startRawOrigin((req) => ok(`got ${req.body.length}`))
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  // The empty chunk must not be written as a premature last-chunk.
  const body = Readable.from([Buffer.from('hello'), Buffer.alloc(0), Buffer.from(' chunked world!')])
  const r = await fetchVia(pool, { method: 'POST', path: '/up', headers: { 'x-a': '1' }, body })
  assert.equal(r.error, null)
  assert.equal(r.body.toString(), 'got 20')
  assert.equal(
    origin.bytes(0).toString('latin1'),
    `POST /up HTTP/1.1\r\nx-a: 1\r\nhost: 127.0.0.1:${origin.port}\r\ntransfer-encoding: chunked\r\n\r\n` +
      '5\r\nhello\r\nf\r\n chunked world!\r\n0\r\n\r\n',
  )
})

test('a body with a Content-Length is sent as-is', async (t) => {
  const origin = await startRawOrigin((req) => ok(`got ${req.body.toString()}`))
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const body = Readable.from([Buffer.from('hello '), Buffer.from('world')])
  const r = await fetchVia(pool, { method: 'PUT', path: '/x', headers: { 'content-length': '11' }, body })
  assert.equal(r.error, null)
  assert.equal(r.body.toString(), 'got hello world')
  assert.equal(
    origin.bytes(0).toString('latin1'),
    `PUT /x HTTP/1.1\r\ncontent-length: 11\r\nhost: 127.0.0.1:${origin.port}\r\n\r\nhello world`,
  )
})

test('an 8 MiB body passes with backpressure', { timeout: 30_000 }, async (t) => {
  const size = 8 * 1024 * 1024
  const origin = await startOrigin({
    streaming: true,
    handler: async (req, res) => {
      const h = createHash('sha256')
      let bytes = 0
      for await (const c of req) {
        h.update(c as Buffer)
        bytes += (c as Buffer).length
      }
      const json = JSON.stringify({ sha256: h.digest('hex'), bytes, te: req.headers['transfer-encoding'] })
      res.writeHead(200, { 'content-length': Buffer.byteLength(json) })
      res.end(json)
    },
  })
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const body = patternStream(size)
  let pauses = 0
  body.on('pause', () => pauses++)
  const r = await fetchVia(pool, { method: 'POST', path: '/big', body })
  assert.equal(r.error, null)
  assert.deepEqual(JSON.parse(r.body.toString()), { sha256: body.digest(), bytes: size, te: 'chunked' })
  assert.ok(pauses > 0, 'the body was paused when the socket was full')
})

test('a body shorter than its Content-Length fails with PK_UPSTREAM_BAD_REQUEST and the connection is dropped', async (t) => {
  const origin = await startRawOrigin((req) => ok(`got ${req.path}`))
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const first = await fetchVia(pool, { path: '/first' })
  assert.equal(first.body.toString(), 'got /first')
  const body = Readable.from([Buffer.from('too short')])
  const short = await fetchVia(pool, {
    method: 'POST',
    path: '/short',
    headers: { 'content-length': '20' },
    body,
  })
  assert.equal(codeOf(short.error), 'PK_UPSTREAM_BAD_REQUEST')
  assert.equal(short.starts, 0)
  await origin.whenClosed(0)
  const next = await fetchVia(pool, { path: '/next' })
  assert.equal(next.body.toString(), 'got /next')
  // The short request was never complete, so the origin never answered it; /next came on a new connection.
  assert.deepEqual(
    origin.requests.map((r) => [r.conn, r.path]),
    [
      [0, '/first'],
      [1, '/next'],
    ],
  )
})
