import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizeHost, parseIp } from '@proxykit/core'
import { CidrTrie, parseCidr } from '../src/cidr-trie.js'
import { HostIndex, parseHostPattern } from '../src/index.js'

function hosts(...patterns: string[]): HostIndex {
  const index = new HostIndex()
  patterns.forEach((p, i) => {
    const parsed = parseHostPattern(p)
    assert.equal(typeof parsed, 'object', p)
    index.insert(parsed as Exclude<typeof parsed, string>, i)
  })
  return index
}

const norm = (h: string) => normalizeHost(h)!.hostname

test('exact host patterns match every spelling of the host and nothing else', () => {
  const index = hosts('example.com', '127.0.0.1', 'bücher.example')
  assert.equal(index.has(norm('EXAMPLE.COM.')), true)
  assert.equal(index.has(norm('example.com')), true)
  assert.equal(index.has(norm('www.example.com')), false)
  assert.equal(index.has(norm('example.com.evil')), false)
  assert.equal(index.has(norm('2130706433')), true)
  assert.equal(index.has(norm('0x7f.1')), true)
  assert.equal(index.has(norm('0177.0.0.1')), true)
  assert.equal(index.has(norm('[::ffff:127.0.0.1]')), true)
  assert.equal(index.has(norm('127.0.0.2')), false)
  // IDN: the Unicode and the punycode spellings are one host
  assert.equal(index.has(norm('xn--bcher-kva.example')), true)
  assert.equal(index.has(norm('BÜCHER.example')), true)
})

test('*.domain matches subdomains only; .domain matches the domain too', () => {
  const sub = hosts('*.example.com')
  assert.equal(sub.has('a.example.com'), true)
  assert.equal(sub.has('a.b.example.com'), true)
  assert.equal(sub.has('example.com'), false)
  assert.equal(sub.has('badexample.com'), false)
  const dom = hosts('.Example.COM')
  assert.equal(dom.has('example.com'), true)
  assert.equal(dom.has('x.example.com'), true)
  assert.equal(dom.has('notexample.com'), false)
  assert.equal(dom.has('example.com.evil.org'), false)
})

test('bad host patterns are refused with a reason', () => {
  for (const bad of ['exa*mple.com', '*', 'foo..bar', '*.127.0.0.1', 'a b', '']) {
    assert.equal(typeof parseHostPattern(bad), 'string', bad)
  }
})

test('CIDR trie: IPv4, IPv6, IPv4-mapped ranges normalised to IPv4', () => {
  const trie = new CidrTrie()
  trie.insert(parseCidr('10.0.0.0/8')!, 0)
  trie.insert(parseCidr('127.0.0.1')!, 1)
  trie.insert(parseCidr('::ffff:192.168.0.0/112')!, 2)
  trie.insert(parseCidr('fd00::/8')!, 3)
  trie.insert(parseCidr('0.0.0.0/0')!, 4)
  const hits = (a: string) => {
    const out: number[] = []
    trie.lookup(parseIp(a)!, (v) => out.push(v))
    return out.sort()
  }
  assert.deepEqual(hits('10.1.2.3'), [0, 4])
  assert.deepEqual(hits('127.0.0.1'), [1, 4])
  assert.deepEqual(hits('::ffff:127.0.0.1'), [1, 4])
  assert.deepEqual(hits('127.0.0.2'), [4])
  assert.deepEqual(hits('192.168.5.5'), [2, 4])
  assert.deepEqual(hits('fd12::1'), [3])
  assert.deepEqual(hits('fe80::1'), [])
  for (const bad of ['10.0.0.0/33', '10.0.0.300', '::ffff:10.0.0.0/64', 'fd00::/129', '10.0.0.0/x', 'a.b']) {
    assert.equal(parseCidr(bad), null, bad)
  }
})

test('the trie stays correct with thousands of prefixes', () => {
  const trie = new CidrTrie()
  for (let i = 0; i < 5000; i++) trie.insert(parseCidr(`10.${i >> 8}.${i & 255}.0/24`)!, i)
  const found: number[] = []
  trie.lookup(parseIp('10.3.7.9')!, (v) => found.push(v))
  assert.deepEqual(found, [3 * 256 + 7])
  assert.equal(trie.has(parseIp('10.20.0.1')!), false)
})
