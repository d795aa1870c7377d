import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ForwardedElement, formatForwarded, forwardedNode, parseForwarded } from '../src/index.js'

test('parses several elements, quoted IPv6 with a port, case-insensitive names', () => {
  const r = parseForwarded('for="[2001:db8::1]:4711";proto=https, For=192.0.2.60;Proto=http;BY=203.0.113.43')
  assert.equal(r.valid, true)
  assert.deepEqual(r.elements, [
    { for: '[2001:db8::1]:4711', proto: 'https' },
    { for: '192.0.2.60', proto: 'http', by: '203.0.113.43' },
  ])
})

test('obfuscated and unknown nodes are ordinary tokens', () => {
  const r = parseForwarded('for=_hidden;by=_SEVKISEK, for=unknown, for="_gazonk:_port"')
  assert.equal(r.valid, true)
  assert.deepEqual(r.elements, [
    { for: '_hidden', by: '_SEVKISEK' },
    { for: 'unknown' },
    { for: '_gazonk:_port' },
  ])
})

test('quoted-pairs are unescaped', () => {
  assert.deepEqual(parseForwarded('for="a\\"b\\\\c";host="x;y,z"').elements, [
    { for: 'a"b\\c', host: 'x;y,z' },
  ])
})

test('several header lines (an array) are one list', () => {
  assert.deepEqual(parseForwarded(['for=a', 'for=b;proto=http']).elements, [
    { for: 'a' },
    { for: 'b', proto: 'http' },
  ])
})

test('empty pairs, empty elements and whitespace around separators are accepted', () => {
  assert.deepEqual(parseForwarded('for=a;'), { elements: [{ for: 'a' }], valid: true })
  assert.deepEqual(parseForwarded('for=a;;proto=http'), {
    elements: [{ for: 'a', proto: 'http' }],
    valid: true,
  })
  assert.deepEqual(parseForwarded('for=a,,for=b'), { elements: [{ for: 'a' }, { for: 'b' }], valid: true })
  assert.deepEqual(parseForwarded(' for=a , for=b '), { elements: [{ for: 'a' }, { for: 'b' }], valid: true })
  assert.deepEqual(parseForwarded(''), { elements: [], valid: true })
  assert.deepEqual(parseForwarded(','), { elements: [], valid: true })
  assert.deepEqual(parseForwarded(undefined), { elements: [], valid: true })
})

test('malformed input stops the parse and keeps only the complete elements before it', () => {
  const cases: [string, number][] = [
    ['for=[2001:db8::1]', 0], // brackets and colons are not token characters: the value must be quoted
    ['for=1;for=2', 0], // a parameter at most once per element (RFC 7239 §4)
    ['for="unterminated', 0],
    ['for', 0],
    ['=a', 0],
    ['for=', 0],
    ['for=a b', 0],
    ['for=a, proto', 1],
    ['for=a, "x"=1', 1],
    ['for=a;proto=http, by=b c', 1],
  ]
  for (const [input, kept] of cases) {
    const r = parseForwarded(input)
    assert.equal(r.valid, false, input)
    assert.equal(r.elements.length, kept, input)
  }
})

test('forwardedNode: IPv4 as is, IPv6 in brackets, mapped IPv6 as IPv4, ports, unknown', () => {
  assert.equal(forwardedNode('192.0.2.60'), '192.0.2.60')
  assert.equal(forwardedNode('2001:DB8:0::1', 4711), '[2001:db8::1]:4711')
  assert.equal(forwardedNode('::ffff:127.0.0.1'), '127.0.0.1')
  assert.equal(forwardedNode(undefined), 'unknown')
  assert.equal(forwardedNode(''), 'unknown')
  assert.equal(forwardedNode('_hidden'), '_hidden')
})

test('formatForwarded quotes what is not a token, escaping quotes and backslashes', () => {
  assert.equal(
    formatForwarded({ for: '[2001:db8::1]:4711', proto: 'https', host: 'example.com' }),
    'for="[2001:db8::1]:4711";proto=https;host=example.com',
  )
  assert.equal(formatForwarded({ for: 'a"b\\c' }), 'for="a\\"b\\\\c"')
  assert.equal(formatForwarded({ for: '_hidden', by: 'unknown' }), 'for=_hidden;by=unknown')
})

test('format then parse gives back the same element', () => {
  const elements: ForwardedElement[] = [
    { for: '[2001:db8::1]:4711', by: '_proxy', host: 'bücher.example:8080', proto: 'https' },
    { for: 'x"y,z;w\\' },
  ]
  for (const e of elements) assert.deepEqual(parseForwarded(formatForwarded(e)).elements, [e])
})
