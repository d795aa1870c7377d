// Range requests (RFC 9110 §14) answered from a stored complete 200: one range (206 + Content-Range),
// several (multipart/byteranges), none satisfiable (416 + Content-Range: bytes */N), If-Range with an
// ETag or a date; what cannot be answered that way gets the whole 200. A 206 from the origin passes
// through and is never stored as the complete response.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Setup, setup } from './helpers.js'

const BODY = '0123456789abcdefghij' // 20 bytes
const LM = 'Mon, 01 Jan 2024 00:00:00 GMT'

async function stored(t: import('node:test').TestContext, etag = '"r1"'): Promise<Setup> {
  const s = await setup(t, (req, res) => {
    res.writeHead(200, {
      'cache-control': 'max-age=600',
      etag,
      'last-modified': LM,
      'content-type': 'text/plain',
      'content-length': BODY.length,
    })
    res.end(req.method === 'HEAD' ? undefined : BODY)
  })
  const first = await s.get('/r')
  assert.equal(first.body, BODY)
  return s
}

test('one range: 206 with Content-Range and the bytes, from the store', async (t) => {
  const s = await stored(t)
  for (const [range, bytes, cr] of [
    ['bytes=0-4', '01234', 'bytes 0-4/20'],
    ['bytes=15-', 'fghij', 'bytes 15-19/20'],
    ['bytes=-3', 'hij', 'bytes 17-19/20'],
    ['bytes=18-100', 'ij', 'bytes 18-19/20'],
    ['BYTES = 2-3', '23', 'bytes 2-3/20'],
    ['bytes=0-3, 2-5', '012345', 'bytes 0-5/20'],
  ] as const) {
    const r = await s.get('/r', { range })
    assert.equal(r.status, 206, range)
    assert.equal(r.body, bytes, range)
    assert.equal(r.headers['content-range'], cr, range)
    assert.equal(r.headers['content-length'], String(bytes.length), range)
    assert.equal(r.headers['content-type'], 'text/plain')
    assert.equal(r.headers.etag, '"r1"')
    assert.match(r.headers['cache-status']!, /hit/)
  }
  assert.equal(s.origin.hits, 1)
})

test('several ranges: multipart/byteranges, each part with its Content-Range', async (t) => {
  const s = await stored(t)
  const r = await s.get('/r', { range: 'bytes=10-11, 0-1, -2' })
  assert.equal(r.status, 206)
  const m = /^multipart\/byteranges; boundary=(\S+)$/.exec(r.headers['content-type']!)
  assert.ok(m, r.headers['content-type'])
  assert.equal(r.headers['content-range'], undefined)
  assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body))
  const boundary = m[1]!
  const expected =
    `--${boundary}\r\ncontent-type: text/plain\r\ncontent-range: bytes 0-1/20\r\n\r\n01` +
    `\r\n--${boundary}\r\ncontent-type: text/plain\r\ncontent-range: bytes 10-11/20\r\n\r\nab` +
    `\r\n--${boundary}\r\ncontent-type: text/plain\r\ncontent-range: bytes 18-19/20\r\n\r\nij` +
    `\r\n--${boundary}--\r\n`
  assert.equal(r.body, expected)
  assert.equal(s.origin.hits, 1)
})

test('no satisfiable range: 416 with Content-Range: bytes */length', async (t) => {
  const s = await stored(t)
  for (const range of ['bytes=20-30', 'bytes=-0', 'bytes=100-']) {
    const r = await s.get('/r', { range })
    assert.equal(r.status, 416, range)
    assert.equal(r.headers['content-range'], 'bytes */20', range)
    assert.equal(r.body, '')
  }
  assert.equal(s.origin.hits, 1)
})

test('If-Range: a matching strong ETag or Last-Modified date gives the range, anything else the whole 200', async (t) => {
  const s = await stored(t)
  const range = 'bytes=0-1'
  assert.equal((await s.get('/r', { range, 'if-range': '"r1"' })).status, 206)
  assert.equal((await s.get('/r', { range, 'if-range': LM })).status, 206)
  for (const ifRange of ['"other"', 'W/"r1"', 'Tue, 02 Jan 2024 00:00:00 GMT', 'garbage']) {
    const r = await s.get('/r', { range, 'if-range': ifRange })
    assert.equal(r.status, 200, ifRange)
    assert.equal(r.body, BODY, ifRange)
  }
  assert.equal(s.origin.hits, 1)
})

test('a weak stored ETag never satisfies If-Range', async (t) => {
  const s = await stored(t, 'W/"w"')
  const r = await s.get('/r', { range: 'bytes=0-1', 'if-range': 'W/"w"' })
  assert.equal(r.status, 200)
})

test('a Range the cache does not answer (invalid, another unit, HEAD) gets the whole stored 200', async (t) => {
  const s = await stored(t)
  for (const range of ['bytes=5-2', 'items=0-1', 'bytes=a-b', 'bytes=', 'bytes=0-1;x']) {
    const r = await s.get('/r', { range })
    assert.equal(r.status, 200, range)
    assert.equal(r.body, BODY, range)
  }
  const head = await s.get('/r', { range: 'bytes=0-1' }, 'HEAD')
  assert.equal(head.status, 200)
  assert.equal(head.headers['content-length'], '20')
  assert.equal(s.origin.hits, 1)
})

test('a 206 from the origin passes through and is not stored as the complete response', async (t) => {
  const s = await setup(t, (req, res) => {
    const headers = { 'cache-control': 'max-age=600', etag: '"p"', 'content-type': 'text/plain' }
    if (req.headers.range === 'bytes=0-1') {
      res.writeHead(206, { ...headers, 'content-range': 'bytes 0-1/20', 'content-length': 2 })
      res.end('01')
      return
    }
    res.writeHead(200, { ...headers, 'content-length': 20 })
    res.end(BODY)
  })
  const partial = await s.get('/r', { range: 'bytes=0-1' })
  assert.equal(partial.status, 206)
  assert.equal(partial.body, '01')
  assert.doesNotMatch(partial.headers['cache-status']!, /stored/)
  const whole = await s.get('/r')
  assert.equal(whole.status, 200)
  assert.equal(whole.body, BODY)
  assert.equal(s.origin.hits, 2)
  const fromStore = await s.get('/r', { range: 'bytes=0-1' })
  assert.equal(fromStore.status, 206)
  assert.equal(s.origin.hits, 2)
})
