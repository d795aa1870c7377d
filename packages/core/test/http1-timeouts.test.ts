// Http1Pool's timeouts: the whole response head within headersTimeout (however it trickles), no gap in
// the body longer than bodyTimeout, and idle connections closed after keepAliveTimeout.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { codeOf, fetchVia, ok, poolFor, startRawOrigin } from './http1-helpers.js'

test('an origin that never answers gives PK_UPSTREAM_HEADERS_TIMEOUT', { timeout: 5_000 }, async (t) => {
  const origin = await startRawOrigin(() => undefined)
  t.after(() => origin.close())
  const pool = poolFor(t, origin, { headersTimeout: 200 })
  const r = await fetchVia(pool)
  assert.equal(codeOf(r.error), 'PK_UPSTREAM_HEADERS_TIMEOUT')
  assert.equal(r.starts, 0)
  await origin.whenClosed(0)
})

test('a head then a stalled body gives PK_UPSTREAM_BODY_TIMEOUT', { timeout: 5_000 }, async (t) => {
  const origin = await startRawOrigin(() => 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial')
  t.after(() => origin.close())
  const pool = poolFor(t, origin, { headersTimeout: 5_000, bodyTimeout: 200 })
  const r = await fetchVia(pool)
  assert.equal(codeOf(r.error), 'PK_UPSTREAM_BODY_TIMEOUT')
  assert.deepEqual([r.starts, r.ends, r.statusCode, r.body.toString()], [1, 0, 200, 'partial'])
  await origin.whenClosed(0)
})

test('a head trickled a byte every 50 ms still times out at headersTimeout in total', {
  timeout: 8_000,
}, async (t) => {
  // 400 bytes at 50 ms each would take 20 s; every gap is far below the 300 ms limit.
  const head = Buffer.from(`HTTP/1.1 200 OK\r\nx-slow: ${'s'.repeat(360)}\r\ncontent-length: 2\r\n\r\nok`)
  let sent = 0
  let timer: NodeJS.Timeout | undefined
  const origin = await startRawOrigin((req) => {
    timer = setInterval(() => {
      if (sent >= head.length || req.socket.destroyed) return clearInterval(timer)
      req.socket.write(head.subarray(sent, sent + 1))
      sent++
    }, 50)
    return undefined
  })
  t.after(() => clearInterval(timer))
  t.after(() => origin.close())
  const pool = poolFor(t, origin, { headersTimeout: 300 })
  const r = await fetchVia(pool)
  assert.equal(codeOf(r.error), 'PK_UPSTREAM_HEADERS_TIMEOUT')
  assert.equal(r.starts, 0)
  assert.ok(sent > 1 && sent < head.length, `sent ${sent} of ${head.length} bytes`)
  await origin.whenClosed(0)
})

test('an idle kept-alive connection is closed after keepAliveTimeout', { timeout: 5_000 }, async (t) => {
  const origin = await startRawOrigin((req) => ok(`answer ${req.index}`))
  t.after(() => origin.close())
  const pool = poolFor(t, origin, { keepAliveTimeout: 200 })
  const first = await fetchVia(pool)
  assert.equal(first.body.toString(), 'answer 0')
  assert.equal(pool.size, 1)
  // The client closes it, not the origin (which never closes on its own).
  await origin.whenClosed(0)
  const next = await fetchVia(pool)
  assert.equal(next.body.toString(), 'answer 1')
  assert.deepEqual(
    origin.requests.map((r) => r.conn),
    [0, 1],
  )
})
