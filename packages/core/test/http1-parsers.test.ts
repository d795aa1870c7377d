// The HTTP/1.1 client's parsers on their own, without a network: the framing decisions parseResponseHead
// makes, and ChunkedDecoder fed a byte at a time.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ChunkedDecoder, parseResponseHead, type ResponseHead } from '../src/http1/index.js'
import { BY_CLOSE, BY_LENGTH, CHUNKED, NO_BODY } from '../src/http1/response-head.js'

function parse(text: string, method = 'GET'): ResponseHead {
  const head = parseResponseHead(text, method)
  if (typeof head === 'string') assert.fail(`unexpected parse error: ${head}`)
  return head
}

test('HEAD, 204 and 304 responses have no body whatever their Content-Length', () => {
  const cases: Array<[string, string]> = [
    ['HTTP/1.1 200 OK\r\ncontent-length: 5', 'HEAD'],
    ['HTTP/1.1 204 No Content\r\ncontent-length: 5', 'GET'],
    ['HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked', 'GET'],
  ]
  for (const [text, method] of cases) {
    const head = parse(text, method)
    assert.equal(head.framing, NO_BODY, text)
    assert.equal(head.keepAlive, true, text)
  }
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 5').framing, BY_LENGTH)
})

test('Transfer-Encoding chunked with a Content-Length is chunked, and the connection is not kept', () => {
  const head = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked')
  assert.equal(head.framing, CHUNKED)
  assert.equal(head.keepAlive, false)
  assert.equal(parse('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked').keepAlive, true)
})

test('duplicate identical Content-Length values are accepted as one', () => {
  for (const text of [
    'HTTP/1.1 200 OK\r\ncontent-length: 42\r\ncontent-length: 42',
    'HTTP/1.1 200 OK\r\ncontent-length: 42, 42',
  ]) {
    const head = parse(text)
    assert.deepEqual([head.framing, head.length, head.headers['content-length']], [BY_LENGTH, 42, '42'])
  }
  assert.equal(
    parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 42, 43', 'GET'),
    'conflicting Content-Length: 42, 43',
  )
})

test('Content-Length and Transfer-Encoding are trimmed of SP and HTAB only, never of a no-break space', () => {
  // 0xa0 is obs-text, allowed in a field value, and String#trim would take it off: `42\xa0` would pass
  // as 42 and `chunked\xa0` as chunked, where a stricter parser downstream would disagree.
  assert.equal(
    parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 42\xa0', 'GET'),
    'invalid Content-Length: 42\xa0',
  )
  assert.equal(
    parseResponseHead('HTTP/1.1 200 OK\r\ncontent-length: 42, \xa042', 'GET'),
    'conflicting Content-Length: 42, \xa042',
  )
  assert.equal(
    parseResponseHead('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\xa0', 'GET'),
    'unsupported Transfer-Encoding: chunked\xa0',
  )
  const lists = parse('HTTP/1.1 200 OK\r\ncontent-length: 7 ,\t7')
  assert.deepEqual([lists.framing, lists.length, lists.headers['content-length']], [BY_LENGTH, 7, '7'])
  assert.equal(parse('HTTP/1.1 200 OK\r\ntransfer-encoding:\tChunked ').framing, CHUNKED)
})

test('the status line, headers, keep-alive and its timeout hint', () => {
  const head = parse(
    'HTTP/1.1 201 Created\r\nKeep-Alive: timeout=5, max=100\r\nX-A: 1\r\nx-a: 2\r\ncontent-length: 0',
  )
  assert.equal(head.statusCode, 201)
  assert.equal(head.statusMessage, 'Created')
  assert.equal(head.keepAliveHint, 5000)
  assert.deepEqual(head.headers['x-a'], ['1', '2'])
  assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 0').keepAliveHint, -1)
  // The hint read by hand (timeout=N first) and by the pattern (anything else) agree.
  const hint = (v: string) => parse(`HTTP/1.1 200 OK\r\nkeep-alive: ${v}\r\ncontent-length: 0`).keepAliveHint
  assert.deepEqual(
    ['timeout=7', 'timeout=7,max=9', 'max=9, timeout=7', 'Timeout=7', 'timeout=7x', 'timeout=', 'max=1'].map(
      hint,
    ),
    [7000, 7000, 7000, 7000, 7000, -1, -1],
  )
  // Every name the parser knows (and stores through its own switch) lands under itself, in any case.
  const known = ['age', 'date', 'etag', 'vary', 'server', 'expires', 'location', 'keep-alive', 'connection']
  known.push('set-cookie', 'content-type', 'accept-ranges', 'cache-control', 'last-modified', 'x-powered-by')
  const fields = known.map((n, i) => `${n.toUpperCase()}: v${i}\r\n`).join('')
  const all = parse(`HTTP/1.1 200 OK\r\n${fields}content-encoding: gzip\r\ncontent-length: 0`).headers
  for (const [i, n] of known.entries()) assert.equal(all[n], `v${i}`, n)
  assert.equal(all['content-encoding'], 'gzip')
  assert.equal(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked').headers['transfer-encoding'], 'chunked')
  // Known field names in other cases and orders, repeated, and beside unknown ones.
  const mixed = parse(
    'HTTP/1.1 200 OK\r\nDATE: d1\r\nX-Y: 1\r\nContent-Type: a\r\ndate: d2\r\nconstructor: c\r\nSet-Cookie: s\r\ncontent-length: 0',
  )
  assert.deepEqual(mixed.headers, {
    date: ['d1', 'd2'],
    'x-y': '1',
    'content-type': 'a',
    constructor: 'c',
    'set-cookie': 's',
    'content-length': '0',
  })
  assert.equal(
    parse('HTTP/1.1 200 OK\r\nconnection: Keep-Alive, Close\r\ncontent-length: 0').keepAlive,
    false,
  )
  // Ten characters, as many as `keep-alive`: still read for `close`.
  for (const value of ['close, foo', 'Close,abcd'])
    assert.equal(
      parse(`HTTP/1.1 200 OK\r\nconnection: ${value}\r\ncontent-length: 0`).keepAlive,
      false,
      value,
    )
  assert.equal(parse('HTTP/1.1 200 OK\r\nconnection: KEEP-ALIVE\r\ncontent-length: 0').keepAlive, true)
  assert.equal(parse('HTTP/1.0 200 OK\r\ncontent-length: 0').keepAlive, false)
  const byClose = parse('HTTP/1.1 200 OK')
  assert.deepEqual([byClose.framing, byClose.keepAlive, byClose.statusMessage], [BY_CLOSE, false, 'OK'])
  assert.equal(parse('HTTP/1.1 200').statusMessage, '')
})

/** Feeds `wire` one byte per call; returns the data, and where (in the wire) the body ended. */
function feedBytewise(wire: string): { data: string; end: number; error: string } {
  const decoder = new ChunkedDecoder()
  const bytes = Buffer.from(wire, 'latin1')
  const data: string[] = []
  for (let i = 0; i < bytes.length; i++) {
    const r = decoder.feed(bytes.subarray(i, i + 1), 0, (chunk) => {
      data.push(chunk.toString('latin1'))
      return true
    })
    if (r === -2) return { data: data.join(''), end: -1, error: decoder.error }
    if (r >= 0) {
      assert.equal(r, 1)
      assert.equal(decoder.done, true)
      return { data: data.join(''), end: i + 1, error: '' }
    }
  }
  return { data: data.join(''), end: -1, error: '' }
}

test('ChunkedDecoder fed a byte at a time decodes extensions and trailers and stops at the end', () => {
  const body =
    '4;a=b\r\nWiki\r\n5 ; c\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0;last\r\nx-t: 1\r\ny-t: 2\r\n\r\n'
  const r = feedBytewise(`${body}HTTP/1.1 200 OK`)
  assert.deepEqual(r, { data: 'Wikipedia in\r\n\r\nchunks.', end: body.length, error: '' })
  const empty = feedBytewise('0\r\n\r\n')
  assert.deepEqual(empty, { data: '', end: 5, error: '' })
})

test('ChunkedDecoder fed a byte at a time refuses broken codings', () => {
  assert.equal(feedBytewise('zz\r\n').error, 'invalid chunk size')
  assert.equal(feedBytewise('1234567890abc\r\n').error, 'chunk size too large')
  assert.equal(feedBytewise('2\nok\r\n0\r\n\r\n').error, 'invalid chunk size')
  assert.equal(feedBytewise('2\rok\r\n0\r\n\r\n').error, 'chunk size line not ended by CRLF')
  assert.equal(feedBytewise('2\r\nokX\r\n').error, 'chunk data not followed by CRLF')
  assert.equal(feedBytewise('2\r\nok\r\n0\r\nx-t: 1\n\r\n').error, 'invalid trailer section')
  assert.equal(feedBytewise('2;\x01\r\nok\r\n0\r\n\r\n').error, 'invalid chunk extension')
})

test('ChunkedDecoder returns the offset just past the body when it ends inside one buffer', () => {
  const decoder = new ChunkedDecoder()
  const wire = Buffer.from('XX3\r\nabc\r\n0\r\n\r\nNEXT')
  const data: string[] = []
  const r = decoder.feed(wire, 2, (c) => {
    data.push(c.toString())
    return true
  })
  assert.equal(r, wire.length - 4)
  assert.deepEqual(data, ['abc'])
})

test('fields named after inherited properties are fields like any other, and __proto__ is dropped', () => {
  const head = parse(
    'HTTP/1.1 200 OK\r\nconstructor: a\r\ntoString: b\r\ntostring: c\r\n__proto__: d\r\ncontent-length: 0',
  )
  assert.equal(head.headers.constructor, 'a')
  assert.deepEqual(head.headers.tostring, ['b', 'c'])
  assert.equal(Object.getPrototypeOf(head.headers), Object.prototype)
  assert.equal(Object.hasOwn(head.headers, '__proto__'), false)
  assert.deepEqual(Object.keys(head.headers), ['constructor', 'tostring', 'content-length'])
})
