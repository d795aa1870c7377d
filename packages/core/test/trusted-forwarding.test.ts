// X-Forwarded-* and Forwarded: what a client says about itself is believed only from a trusted peer.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { addForwardingHeaders, compileTrust, type ForwardingOptions, type TrustProxy } from '../src/index.js'
import { rawRequest } from '../src/testing/index.js'

test('compileTrust: false/undefined trust nobody, true everybody', () => {
  assert.equal(compileTrust(undefined)('127.0.0.1', 0), false)
  assert.equal(compileTrust(false)('127.0.0.1', 0), false)
  assert.equal(compileTrust(true)('203.0.113.1', 0), true)
  assert.equal(compileTrust(true)('203.0.113.1', 7), true)
})

test('compileTrust: a number trusts that many hops', () => {
  const two = compileTrust(2)
  assert.equal(two('203.0.113.1', 0), true)
  assert.equal(two('203.0.113.1', 1), true)
  assert.equal(two('203.0.113.1', 2), false)
  assert.equal(compileTrust(0)('127.0.0.1', 0), false)
})

test('compileTrust: addresses and CIDRs as a comma list or an array, IPv4-mapped peers included', () => {
  for (const trust of [
    '127.0.0.1, 10.0.0.0/8, 2001:db8::/32',
    ['127.0.0.1', '10.0.0.0/8', '2001:db8::/32'],
  ]) {
    const fn = compileTrust(trust)
    assert.equal(fn('127.0.0.1', 0), true)
    assert.equal(fn('10.20.30.40', 0), true)
    assert.equal(fn('::ffff:10.1.1.1', 0), true)
    assert.equal(fn('2001:db8::5', 0), true)
    assert.equal(fn('127.0.0.2', 0), false)
    assert.equal(fn('11.0.0.1', 0), false)
    assert.equal(fn('2001:db9::1', 0), false)
  }
  // proxy-addr's named ranges work too
  assert.equal(compileTrust('loopback')('127.0.0.2', 0), true)
})

test('compileTrust: a function is used as is', () => {
  const seen: [string, number][] = []
  const fn = compileTrust((address, hop) => {
    seen.push([address, hop])
    return address === '127.0.0.1'
  })
  assert.equal(fn('127.0.0.1', 0), true)
  assert.equal(fn('127.0.0.3', 1), false)
  assert.deepEqual(seen, [
    ['127.0.0.1', 0],
    ['127.0.0.3', 1],
  ])
})

async function forwardingEcho(trust: TrustProxy | undefined, options: Partial<ForwardingOptions> = {}) {
  const fastify = Fastify()
  const trustFn = compileTrust(trust)
  fastify.get('/', async (request) => {
    const out: Record<string, unknown> = { 'x-kept': 'yes' }
    addForwardingHeaders(out as never, request.raw, { trust: trustFn, proto: 'https', ...options })
    return out
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  return { fastify, port: (fastify.server.address() as { port: number }).port }
}

const SPOOFED =
  'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n' +
  'X-Forwarded-Proto: gopher\r\nX-Forwarded-Host: evil.test\r\nX-Real-IP: 1.2.3.4\r\n' +
  'Forwarded: for=1.2.3.4;proto=http\r\n\r\n'

test('spoofed forwarding headers from an untrusted peer are dropped and replaced by the truth', async (t) => {
  const { fastify, port } = await forwardingEcho(undefined, { host: 'a.test' })
  t.after(() => fastify.close())
  const out = JSON.parse((await rawRequest(port, SPOOFED)).body.toString())
  assert.deepEqual(out, {
    'x-kept': 'yes',
    'x-forwarded-for': '127.0.0.1',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'a.test',
    forwarded: 'for=127.0.0.1;host=a.test;proto=https',
  })
})

test('an untrusted peer in a CIDR list that does not match it is treated the same', async (t) => {
  const { fastify, port } = await forwardingEcho('10.0.0.0/8')
  t.after(() => fastify.close())
  const out = JSON.parse((await rawRequest(port, SPOOFED)).body.toString())
  assert.equal(out['x-forwarded-for'], '127.0.0.1')
  assert.equal(out['x-real-ip'], undefined)
  assert.equal(out.forwarded, 'for=127.0.0.1;proto=https')
})

for (const trust of [
  true,
  1,
  '127.0.0.1',
  ['127.0.0.0/8'],
  (a: string) => a === '127.0.0.1',
] as TrustProxy[]) {
  test(`a trusted peer (${typeof trust === 'function' ? 'function' : JSON.stringify(trust)}) has its chain kept and appended to`, async (t) => {
    const { fastify, port } = await forwardingEcho(trust, { host: 'a.test', by: '_edge' })
    t.after(() => fastify.close())
    const out = JSON.parse((await rawRequest(port, SPOOFED)).body.toString())
    assert.equal(out['x-forwarded-for'], '1.2.3.4, 5.6.7.8, 127.0.0.1')
    assert.equal(out['x-forwarded-proto'], 'gopher')
    assert.equal(out['x-forwarded-host'], 'evil.test')
    assert.equal(out.forwarded, 'for=1.2.3.4;proto=http, for=127.0.0.1;by=_edge;host=a.test;proto=https')
  })
}

test('xForwarded: false and forwarded: false each leave their headers out', async (t) => {
  const a = await forwardingEcho(undefined, { xForwarded: false })
  const b = await forwardingEcho(undefined, { forwarded: false })
  t.after(() => Promise.all([a.fastify.close(), b.fastify.close()]))
  const outA = JSON.parse((await rawRequest(a.port, SPOOFED)).body.toString())
  const outB = JSON.parse((await rawRequest(b.port, SPOOFED)).body.toString())
  assert.deepEqual(outA, { 'x-kept': 'yes', forwarded: 'for=127.0.0.1;proto=https' })
  assert.deepEqual(outB, { 'x-kept': 'yes', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'https' })
})
