// Issue 26.6: which address:port reaches one of this process's own listeners, without traffic: a listener
// on a wildcard address answers on every loopback address, the unspecified address and each interface's.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { reachesOwnListener } from '../src/index.js'

test('a wildcard listener is reached through every loopback spelling and the unspecified address', () => {
  const any4 = [{ address: '0.0.0.0', port: 9901 }]
  const any6 = [{ address: '::', port: 9901 }]
  // Canonical forms, as the guard passes them (IPv4-mapped unwrapped, 2130706434 already 127.0.0.2).
  for (const ip of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '0.0.0.0']) {
    assert.equal(reachesOwnListener(ip, 9901, any4), true, `${ip} on 0.0.0.0`)
    assert.equal(reachesOwnListener(ip, 9901, any6), true, `${ip} on :: (dual stack)`)
  }
  assert.equal(reachesOwnListener('::1', 9901, any6), true)
  assert.equal(reachesOwnListener('::', 9901, any6), true)
  assert.equal(reachesOwnListener('::1', 9901, any4), false, 'an IPv4 wildcard takes no IPv6 connection')
  assert.equal(reachesOwnListener('127.0.0.1', 9902, any4), false, 'another port is not ours')
  assert.equal(reachesOwnListener('192.0.2.10', 9901, any4), false, 'not a local address')
})

test('a listener on one address is reached only through that address', () => {
  const own = [
    { address: '127.0.0.1', port: 3128 },
    { address: '::1', port: 9901 },
  ]
  assert.equal(reachesOwnListener('127.0.0.1', 3128, own), true)
  assert.equal(reachesOwnListener('127.0.0.2', 3128, own), false)
  assert.equal(reachesOwnListener('::1', 9901, own), true)
  assert.equal(reachesOwnListener('0:0:0:0:0:0:0:1', 9901, own), true, 'any IPv6 spelling')
  assert.equal(reachesOwnListener('127.0.0.1', 9901, own), false)
})

test('a listener known only by name (before binding) is taken as loopback', () => {
  const own = [{ address: 'localhost', port: 9901 }]
  assert.equal(reachesOwnListener('127.0.0.1', 9901, own), true)
  assert.equal(reachesOwnListener('::1', 9901, own), true)
  assert.equal(reachesOwnListener('192.0.2.10', 9901, own), false)
})
