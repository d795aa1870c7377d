// Http1Pool refuses every response it cannot frame unambiguously with PK_UPSTREAM_BAD_RESPONSE, closes
// that connection, and answers the next request from a fresh one.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { codeOf, fetchVia, ok, poolFor, startRawOrigin } from './http1-helpers.js'

const H = 'HTTP/1.1 200 OK\r\n'
const CHUNKED = `${H}transfer-encoding: chunked\r\n\r\n`

// Broken before the body: the handler must never hear a response start.
const badHeads: Array<[string, string]> = [
  ['bare LF line endings', 'HTTP/1.1 200 OK\ncontent-length: 2\n\nok'],
  ['a bare LF inside an otherwise CRLF head', `${H}x-a: 1\ncontent-length: 2\r\n\r\nok`],
  ['obs-fold continuation line', `${H}x-a: one\r\n two\r\ncontent-length: 2\r\n\r\nok`],
  ['space before the colon', `${H}x-a : 1\r\ncontent-length: 2\r\n\r\nok`],
  ['NUL in a value', `${H}x-a: a\x00b\r\ncontent-length: 2\r\n\r\nok`],
  ['another control character in a value', `${H}x-a: a\x01b\r\ncontent-length: 2\r\n\r\nok`],
  ['two different Content-Length values', `${H}content-length: 2\r\ncontent-length: 3\r\n\r\nok!`],
  ['a non-numeric Content-Length', `${H}content-length: 2x\r\n\r\nok`],
  ['Transfer-Encoding: gzip', `${H}transfer-encoding: gzip\r\n\r\nok`],
  ['Transfer-Encoding: gzip, chunked', `${H}transfer-encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`],
  [
    'an unrequested 101',
    'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
  ],
  ['a head over 16 KiB', `${H}x-big: ${'a'.repeat(17 * 1024)}\r\ncontent-length: 2\r\n\r\nok`],
  ['an invalid status line', 'HTTP/1.1 2000 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['a status line of another protocol', 'HTTP/2 200 OK\r\ncontent-length: 2\r\n\r\nok'],
]

// Broken in the chunked body: the head was fine (and delivered), the body fails.
const badBodies: Array<[string, string]> = [
  ['a bad chunk size', `${CHUNKED}zz\r\nok\r\n0\r\n\r\n`],
  ['a chunk size of more than 12 hex digits', `${CHUNKED}0000000000002\r\nok\r\n0\r\n\r\n`],
  ['chunk data not followed by CRLF', `${CHUNKED}2\r\nokX\r\n0\r\n\r\n`],
]

async function malformedThenGood(t: { after(fn: () => unknown): void }, raw: string) {
  // The origin keeps the connection open after the bad answer: the client must see the fault itself.
  const origin = await startRawOrigin((req) => (req.index === 0 ? raw : ok(`good ${req.conn}`)))
  t.after(() => origin.close())
  const pool = poolFor(t, origin, { headersTimeout: 10_000, bodyTimeout: 10_000 })
  const bad = await fetchVia(pool, { path: '/bad' })
  const good = await fetchVia(pool, { path: '/good' })
  await origin.whenClosed(0)
  assert.equal(good.error, null)
  assert.equal(good.body.toString(), 'good 1')
  assert.deepEqual(
    origin.requests.map((r) => [r.conn, r.path]),
    [
      [0, '/bad'],
      [1, '/good'],
    ],
  )
  return bad
}

for (const [name, raw] of badHeads) {
  test(`a response head with ${name} fails with PK_UPSTREAM_BAD_RESPONSE`, { timeout: 5_000 }, async (t) => {
    const bad = await malformedThenGood(t, raw)
    assert.equal(codeOf(bad.error), 'PK_UPSTREAM_BAD_RESPONSE')
    assert.deepEqual([bad.starts, bad.ends, bad.errors], [0, 0, 1])
  })
}

for (const [name, raw] of badBodies) {
  test(`a chunked body with ${name} fails with PK_UPSTREAM_BAD_RESPONSE`, { timeout: 5_000 }, async (t) => {
    const bad = await malformedThenGood(t, raw)
    assert.equal(codeOf(bad.error), 'PK_UPSTREAM_BAD_RESPONSE')
    // The head was valid, so it was delivered; the body never ends.
    assert.deepEqual([bad.starts, bad.ends, bad.errors], [1, 0, 1])
    assert.ok(!bad.body.toString().includes('X'))
  })
}
