import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  looksLikeProxyHeader,
  ProxyHeaderError,
  parseProxyHeader,
  V1_MAX,
  V2_MAX,
} from '../src/listeners/proxy-protocol.js'

// The PROXY header parser takes exactly what HAProxy's proxy-protocol.txt allows: every other shape is
// a ProxyHeaderError, a valid beginning is "incomplete", and nothing reads past the header's bounds.

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex')

function v2(verCmd: number, famProto: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4)
  head[0] = verCmd
  head[1] = famProto
  head.writeUInt16BE(body.length, 2)
  return Buffer.concat([SIG, head, body])
}

function inet4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12)
  b.set(src, 0)
  b.set(dst, 4)
  b.writeUInt16BE(sport, 8)
  b.writeUInt16BE(dport, 10)
  return b
}

const bad = (input: Buffer | string, message: RegExp) =>
  assert.throws(
    () => parseProxyHeader(Buffer.from(input as string, 'latin1')),
    (e: unknown) => {
      assert.ok(e instanceof ProxyHeaderError, String(e))
      assert.match(e.message, message)
      return true
    },
  )

test('v1: valid TCP4, TCP6 and UNKNOWN headers, and the bytes after them left alone', () => {
  const h = parseProxyHeader(Buffer.from('PROXY TCP4 127.0.0.9 127.0.0.1 56324 443\r\nGET /', 'latin1'))
  assert.deepEqual(h, {
    complete: true,
    version: 1,
    length: 42,
    addresses: {
      source: { address: '127.0.0.9', port: 56324, family: 'IPv4' },
      destination: { address: '127.0.0.1', port: 443 },
    },
  })
  const six = parseProxyHeader(Buffer.from('PROXY TCP6 ::1 ::1 0 65535\r\n', 'latin1'))
  assert.equal(six.complete && six.addresses?.source.family, 'IPv6')
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), {
    complete: true,
    version: 1,
    length: 15,
    addresses: null,
  })
  // Exactly the specification's 107 bytes is still a header.
  const longest = parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${'a'.repeat(V1_MAX - 16)}\r\n`))
  assert.equal(longest.complete && longest.length, V1_MAX)
  const unknownWithJunk = parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff::1 x y z\r\n'))
  assert.equal(unknownWithJunk.complete && unknownWithJunk.addresses, null)
})

test('v1: every prefix of a valid header is incomplete, not an error', () => {
  const full = Buffer.from('PROXY TCP4 127.0.0.9 127.0.0.1 56324 443\r\n', 'latin1')
  for (let n = 0; n < full.length; n++)
    assert.deepEqual(parseProxyHeader(full.subarray(0, n)), { complete: false }, `prefix of ${n}`)
})

test('v1: malformed, mixed-family, out-of-range and oversized headers are refused', () => {
  bad('GET / HTTP/1.1\r\n', /not a PROXY protocol header/)
  bad('PROXY TCP4 127.0.0.9 127.0.0.1 1 2\n', /byte 0x0a/)
  bad('PROXY TCP4 127.0.0.9 127.0.0.1 1\r2\r\n', /byte 0x0d/)
  bad('PROXY TCP4 127.0.0.9  127.0.0.1 1 2\r\n', /expected/)
  bad('PROXY TCP4 127.0.0.9 127.0.0.1 1 2 3\r\n', /expected/)
  bad('PROXY TCP5 127.0.0.9 127.0.0.1 1 2\r\n', /unknown protocol "TCP5"/)
  bad('PROXY TCP4 ::1 127.0.0.1 1 2\r\n', /source "::1" is not an TCP4 address/)
  bad('PROXY TCP6 ::1 127.0.0.1 1 2\r\n', /destination "127.0.0.1" is not an TCP6 address/)
  bad('PROXY TCP4 127.000.0.9 127.0.0.1 1 2\r\n', /source/)
  bad('PROXY TCP4 2130706441 127.0.0.1 1 2\r\n', /source/)
  bad('PROXY TCP6 fe80::1%lo ::1 1 2\r\n', /source/)
  bad('PROXY TCP4 127.0.0.9 127.0.0.1 65536 2\r\n', /source port "65536"/)
  bad('PROXY TCP4 127.0.0.9 127.0.0.1 01 2\r\n', /source port "01"/)
  bad('PROXY TCP4 127.0.0.9 127.0.0.1 1 -2\r\n', /destination port "-2"/)
  bad('PROXY TCP4 127.0.0.9 127.0.0.1 1 2\u00e9\r\n', /byte 0xe9/)
  bad('PROXY TCP4 127.0.0.9 127.0.0.1 1 \u0000\r\n', /byte 0x00/)
  // The specification's bound: no CRLF within 107 bytes is an error, not a longer wait.
  bad(`PROXY UNKNOWN ${'a'.repeat(V1_MAX)}`, /no CRLF within 107 bytes/)
  bad(`PROXY UNKNOWN ${'a'.repeat(V1_MAX - 15)}\r\n`, /longer than 107/)
})

test('v2: PROXY over TCP4 and TCP6, LOCAL and UNSPEC, with and without TLVs', () => {
  const h = parseProxyHeader(
    Buffer.concat([v2(0x21, 0x11, inet4([127, 0, 0, 9], [127, 0, 0, 1], 56324, 443)), Buffer.from('GET')]),
  )
  assert.deepEqual(h, {
    complete: true,
    version: 2,
    length: 28,
    addresses: {
      source: { address: '127.0.0.9', port: 56324, family: 'IPv4' },
      destination: { address: '127.0.0.1', port: 443 },
    },
  })
  const six = Buffer.alloc(36)
  six[15] = 1 // ::1
  six.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 9], 16) // ::ffff:127.0.0.9
  six.writeUInt16BE(1234, 32)
  six.writeUInt16BE(443, 34)
  const h6 = parseProxyHeader(v2(0x21, 0x21, six))
  assert.equal(h6.complete && h6.addresses?.source.address, '::1')
  assert.equal(h6.complete && h6.addresses?.destination.address, '::ffff:127.0.0.9')
  // A TLV (PP2_TYPE_ALPN "h2") after the addresses is skipped.
  const tlv = Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32])
  const withTlv = parseProxyHeader(
    v2(0x21, 0x11, Buffer.concat([inet4([127, 0, 0, 9], [127, 0, 0, 1], 1, 2), tlv])),
  )
  assert.equal(withTlv.complete && withTlv.length, 16 + 12 + 5)
  // LOCAL (a health check) and UNSPEC carry no client: the connection's own address stands.
  assert.deepEqual(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0))), {
    complete: true,
    version: 2,
    length: 16,
    addresses: null,
  })
  const local = parseProxyHeader(v2(0x20, 0x11, inet4([127, 0, 0, 9], [127, 0, 0, 1], 1, 2)))
  assert.equal(local.complete && local.addresses, null)
})

test('v2: every prefix of a valid header is incomplete', () => {
  const full = v2(0x21, 0x11, inet4([127, 0, 0, 9], [127, 0, 0, 1], 1, 2))
  for (let n = 0; n < full.length; n++)
    assert.deepEqual(parseProxyHeader(full.subarray(0, n)), { complete: false }, `prefix of ${n}`)
})

test('v2: wrong version, command, family, transport, lengths and TLVs are refused', () => {
  const a4 = inet4([127, 0, 0, 9], [127, 0, 0, 1], 1, 2)
  bad(v2(0x11, 0x11, a4), /version 1 is not 2/)
  bad(v2(0x31, 0x11, a4), /version 3 is not 2/)
  bad(v2(0x22, 0x11, a4), /unknown command 2/)
  bad(v2(0x21, 0x41, a4), /unknown address family/)
  bad(v2(0x21, 0x13, a4), /unknown address family/)
  bad(v2(0x21, 0x12, a4), /datagram/)
  bad(v2(0x21, 0x11, a4.subarray(0, 11)), /11 bytes cannot hold/)
  bad(v2(0x21, 0x21, Buffer.concat([a4, a4])), /24 bytes cannot hold/)
  bad(v2(0x21, 0x11, Buffer.concat([a4, Buffer.from([0x01, 0x00])])), /truncated TLV/)
  bad(v2(0x21, 0x11, Buffer.concat([a4, Buffer.from([0x01, 0x00, 0x05, 0x68])])), /runs past/)
  // The size bound is checked from the length field alone, before any body arrives.
  const huge = v2(0x21, 0x11, Buffer.alloc(0))
  huge.writeUInt16BE(0xffff, 14)
  bad(huge, new RegExp(`65551 bytes is over ${V2_MAX}`))
  // A signature one byte off is not a header at all.
  const off = v2(0x21, 0x11, a4)
  off[11] = 0x0b
  bad(off, /not a PROXY protocol header/)
})

test('looksLikeProxyHeader tells HTTP from a header after the first differing byte', () => {
  assert.equal(looksLikeProxyHeader(Buffer.from('P')), 'maybe')
  assert.equal(looksLikeProxyHeader(Buffer.from('PO')), 'no')
  assert.equal(looksLikeProxyHeader(Buffer.from('PROXY')), 'maybe')
  assert.equal(looksLikeProxyHeader(Buffer.from('PROXY ')), 'yes')
  assert.equal(looksLikeProxyHeader(Buffer.from('\r\n')), 'maybe')
  assert.equal(looksLikeProxyHeader(SIG), 'yes')
  assert.equal(looksLikeProxyHeader(Buffer.from('GET / HTTP/1.1')), 'no')
})
