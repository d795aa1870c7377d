import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectionTokens, HOP_BY_HOP, stripHopByHop } from '../src/index.js'

// RFC 9110 §7.6.1 and the legacy connection headers every proxy strips.
const FIXED = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'trailer',
  'http2-settings',
]

test('every fixed hop-by-hop header is removed, end-to-end headers are kept', () => {
  const headers: Record<string, string> = { accept: 'text/html', 'x-custom': '1', 'content-type': 'a/b' }
  for (const name of FIXED) headers[name] = 'v'
  const out = stripHopByHop(headers)
  for (const name of FIXED) assert.equal(out[name], undefined, `${name} must be removed`)
  assert.deepEqual(out, { accept: 'text/html', 'x-custom': '1', 'content-type': 'a/b' })
  assert.deepEqual([...HOP_BY_HOP].sort(), [...FIXED].sort())
})

test('every header named in Connection is removed, whatever its case and spacing', () => {
  const out = stripHopByHop({
    connection: ' close ,X-Foo,  x-BAR ,,',
    'x-foo': '1',
    'x-bar': '2',
    'x-baz': '3',
  })
  assert.deepEqual(out, { 'x-baz': '3' })
})

test('Connection given as several header lines (an array) names headers on every line', () => {
  const out = stripHopByHop({ connection: ['x-a', 'x-b'], 'x-a': '1', 'x-b': '2', 'x-c': '3' })
  assert.deepEqual(out, { 'x-c': '3' })
})

test('mixed-case input names are matched and written lower-case', () => {
  const out = stripHopByHop({ Connection: 'X-Drop', 'X-Drop': '1', 'X-Keep': '2', 'Keep-Alive': 'x' })
  assert.deepEqual(out, { 'x-keep': '2' })
})

test('a client cannot nominate Host or Content-Length as connection options', () => {
  assert.deepEqual(connectionTokens('close, Host, content-length, x-a'), ['close', 'x-a'])
  const out = stripHopByHop({ connection: 'host, content-length', host: 'a', 'content-length': '3' })
  assert.deepEqual(out, { host: 'a', 'content-length': '3' })
})

test('connectionTokens of nothing is empty', () => {
  assert.deepEqual(connectionTokens(undefined), [])
  assert.deepEqual(connectionTokens(''), [])
  assert.deepEqual(connectionTokens(' , ,'), [])
})

test('Upgrade is removed unless the request is being upgraded', () => {
  const headers = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' }
  assert.deepEqual(stripHopByHop(headers), { 'sec-websocket-key': 'k' })
  assert.deepEqual(stripHopByHop(headers, { upgrade: false }), { 'sec-websocket-key': 'k' })
  assert.deepEqual(stripHopByHop(headers, { upgrade: true }), {
    'sec-websocket-key': 'k',
    upgrade: 'websocket',
    connection: 'upgrade',
  })
})

test('upgrading still removes the other headers named in Connection', () => {
  const out = stripHopByHop(
    { connection: 'Upgrade, X-Secret', upgrade: 'websocket', 'x-secret': 's', 'keep-alive': '5' },
    { upgrade: true },
  )
  assert.deepEqual(out, { upgrade: 'websocket', connection: 'upgrade' })
})

test('upgrade: true without an Upgrade header adds nothing', () => {
  assert.deepEqual(stripHopByHop({ connection: 'keep-alive', a: '1' }, { upgrade: true }), { a: '1' })
})

test('options.remove drops extra names, as a Set or an array', () => {
  const headers = { a: '1', b: '2', c: '3' }
  assert.deepEqual(stripHopByHop(headers, { remove: new Set(['a']) }), { b: '2', c: '3' })
  assert.deepEqual(stripHopByHop(headers, { remove: ['a', 'c'] }), { b: '2' })
})

test('the input is not modified and undefined values are skipped', () => {
  const headers = { connection: 'x-a', 'x-a': '1', b: undefined, c: ['1', '2'] }
  const out = stripHopByHop(headers)
  assert.deepEqual(out, { c: ['1', '2'] })
  assert.equal(headers['x-a'], '1')
})
