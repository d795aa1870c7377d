// Http1Pool refuses a request head that could not be sent safely (a value that would start a new line,
// a name or target that would split the request line) before a single byte leaves.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Http1Request } from '../src/index.js'
import { codeOf, fetchVia, ok, poolFor, startRawOrigin } from './http1-helpers.js'

const cases: Array<[string, Partial<Http1Request>]> = [
  ['a header value containing CR LF', { headers: { 'x-a': 'a\r\nx-injected: 1' } }],
  ['a header value containing a bare LF', { headers: { 'x-a': 'a\nb' } }],
  ['a header value containing a bare CR', { headers: { 'x-a': 'a\rb' } }],
  [
    'a header value in an array containing CR LF',
    { headers: { 'x-a': ['fine', 'b\r\n\r\nGET / HTTP/1.1'] } },
  ],
  ['a header name with a space', { headers: { 'x a': 'b' } }],
  ['a path with a space', { path: '/a b' }],
  ['an invalid method', { method: 'GET /x HTTP/1.1\r\n' }],
  ['a method with a space', { method: 'GE T' }],
]

for (const [name, options] of cases) {
  test(`${name} fails with PK_UPSTREAM_BAD_REQUEST before any byte is sent`, async (t) => {
    const origin = await startRawOrigin(() => ok('should not be asked'))
    t.after(() => origin.close())
    const pool = poolFor(t, origin)
    const r = await fetchVia(pool, options)
    assert.equal(codeOf(r.error), 'PK_UPSTREAM_BAD_REQUEST')
    assert.deepEqual([r.starts, r.ends, r.errors], [0, 0, 1])
    assert.equal(pool.size, 0)
    // A valid request on the same pool goes through, and it is the only thing the origin ever saw.
    const good = await fetchVia(pool, { path: '/good' })
    assert.equal(good.body.toString(), 'should not be asked')
    assert.equal(origin.connections, 1)
    assert.deepEqual(
      origin.requests.map((r) => r.path),
      ['/good'],
    )
    assert.match(origin.bytes(0).toString('latin1'), /^GET \/good HTTP\/1\.1\r\nhost: [^\r\n]+\r\n\r\n$/)
  })
}
