// Every spelling of one host is one string: what the address rules and the cache key compare.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  formatAuthority,
  normalizeHost,
  parseAbsoluteTarget,
  parseAuthorityTarget,
  parseHostHeader,
} from '../src/index.js'

test('every spelling of 127.0.0.2 normalises to the dotted quad', () => {
  const spellings = [
    '127.0.0.2',
    '2130706434', // one 32-bit decimal
    '0x7f000002', // hex
    '0X7F000002',
    '0177.0.0.2', // octal first part
    '0177.0.0.02',
    '0x7f.0.0.2',
    '0x7f.2', // two parts: 8 + 24 bits
    '127.2',
    '127.0.2', // three parts: 8 + 8 + 16 bits
    '[::ffff:127.0.0.2]', // IPv4-mapped IPv6
    '[::FFFF:7f00:2]',
    '[0:0:0:0:0:ffff:127.0.0.2]',
    '127.0.0.2.', // trailing dot
    '%31%32%37.0.0.2', // percent-encoded
  ]
  for (const s of spellings) assert.deepEqual(normalizeHost(s), { hostname: '127.0.0.2', family: 4 }, s)
})

test('names: case, trailing dot, percent-encoding and IDN all become one lower-case ASCII name', () => {
  const spellings = [
    'xn--bcher-kva.example',
    'XN--BCHER-KVA.EXAMPLE',
    'xn--bcher-kva.example.',
    'bücher.example',
    'BÜCHER.example',
    'b%C3%BCcher.example',
  ]
  for (const s of spellings)
    assert.deepEqual(normalizeHost(s), { hostname: 'xn--bcher-kva.example', family: 0 }, s)
  assert.deepEqual(normalizeHost('LocalHost.'), { hostname: 'localhost', family: 0 })
  assert.deepEqual(normalizeHost('ex%41mple.com'), { hostname: 'example.com', family: 0 })
})

test('IPv6 spellings become the compressed lower-case form, without brackets', () => {
  for (const s of ['[::1]', '[0:0:0:0:0:0:0:1]', '[0::1]'])
    assert.deepEqual(normalizeHost(s), { hostname: '::1', family: 6 }, s)
  assert.deepEqual(normalizeHost('[2001:DB8:0:0::1]'), { hostname: '2001:db8::1', family: 6 })
})

test('invalid hosts are null', () => {
  for (const s of [
    '',
    '.',
    '.a',
    'a..b',
    '1.2.3.4.5',
    '256.0.0.1',
    '0x1ffffffff',
    'a b',
    'a/b',
    'a@b',
    'a%zz',
    '[::1',
    '::1', // IPv6 needs brackets in a host
    '[fe80::1%25eth0]', // zone identifiers are not for HTTP
    '[127.0.0.1]',
    'x'.repeat(256),
    'a.1', // a numeric last label that is not an IPv4 address
  ])
    assert.equal(normalizeHost(s), null, JSON.stringify(s))
})

test('targets, authorities and Host headers compare equal across spellings', () => {
  const a = parseAbsoluteTarget('http://2130706434:8080/x')
  const b = parseAbsoluteTarget('HTTP://0x7f000002:8080/x')
  const c = parseAbsoluteTarget('http://[::ffff:127.0.0.2]:8080/x')
  assert.ok(!(a instanceof Error) && !(b instanceof Error) && !(c instanceof Error))
  assert.deepEqual(a, b)
  assert.deepEqual(a, c)
  assert.equal(a.authority, '127.0.0.2:8080')
  const d = parseAuthorityTarget('0177.0.0.2:443')
  assert.ok(!(d instanceof Error))
  assert.equal(d.hostname, '127.0.0.2')
  assert.equal(d.authority, '127.0.0.2:443')
  assert.deepEqual(parseHostHeader('127.2:80'), { hostname: '127.0.0.2', family: 4 })
})

test('absolute targets: default ports dropped from the authority, path defaults to /', () => {
  const t = parseAbsoluteTarget('https://EXAMPLE.test:443')
  assert.ok(!(t instanceof Error))
  assert.deepEqual(t, {
    scheme: 'https',
    hostname: 'example.test',
    family: 0,
    port: 443,
    authority: 'example.test',
    path: '/',
  })
  const q = parseAbsoluteTarget('http://[::1]:8080?x=1')
  assert.ok(!(q instanceof Error))
  assert.equal(q.authority, '[::1]:8080')
  assert.equal(q.path, '/?x=1')
})

test('formatAuthority brackets IPv6 and drops the default port', () => {
  assert.equal(formatAuthority('::1', 80, 80), '[::1]')
  assert.equal(formatAuthority('::1', 8080, 80), '[::1]:8080')
  assert.equal(formatAuthority('a.test', 443, -1), 'a.test:443')
})
