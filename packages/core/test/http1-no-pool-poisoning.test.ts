// A response that does not end where its framing says never hands its connection back: bytes past the
// Content-Length are not the next request's answer, and a body cut short fails its own exchange only.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { codeOf, fetchVia, ok, poolFor, startRawOrigin } from './http1-helpers.js'

test('bytes past the Content-Length (a smuggled second response) never reach the next request', async (t) => {
  const smuggled = ok('SMUGGLED')
  const origin = await startRawOrigin((req) =>
    req.index === 0 ? `${ok('first')}${smuggled}` : ok(`real ${req.path}`),
  )
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const first = await fetchVia(pool, { path: '/1' })
  assert.equal(first.error, null)
  assert.equal(first.body.toString(), 'first')
  const second = await fetchVia(pool, { path: '/2' })
  assert.equal(second.error, null)
  assert.equal(second.body.toString(), 'real /2')
  assert.deepEqual(
    origin.requests.map((r) => [r.conn, r.path]),
    [
      [0, '/1'],
      [1, '/2'],
    ],
  )
  await origin.whenClosed(0)
})

test('a body shorter than its Content-Length, then the close, fails with PK_UPSTREAM_CLOSED', async (t) => {
  const origin = await startRawOrigin((req) => {
    if (req.index === 0) {
      req.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc')
      return undefined
    }
    return ok(`real ${req.path}`)
  })
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const short = await fetchVia(pool, { path: '/1' })
  assert.equal(codeOf(short.error), 'PK_UPSTREAM_CLOSED')
  assert.deepEqual([short.starts, short.ends, short.errors], [1, 0, 1])
  assert.equal(short.body.toString(), 'abc')
  const next = await fetchVia(pool, { path: '/2' })
  assert.equal(next.error, null)
  assert.equal(next.body.toString(), 'real /2')
  assert.equal(origin.connections, 2)
  assert.deepEqual(
    origin.requests.map((r) => r.conn),
    [0, 1],
  )
})
