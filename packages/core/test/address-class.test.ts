// Address classes for destination rules. Unit only: nothing here sends a packet.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ADDRESS_CLASSES, type AddressClass, classifyAddress, parseIp } from '../src/index.js'

const EXAMPLES: Record<AddressClass, string[]> = {
  loopback: ['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '[::1]', '::ffff:127.0.0.1'],
  private: [
    '10.0.0.0',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '192.168.255.255',
    '100.64.0.1', // carrier-grade NAT, 100.64/10
    '100.127.255.255',
    '::ffff:10.1.2.3',
  ],
  linkLocal: ['169.254.0.1', '169.254.255.254', 'fe80::1', 'febf::1', 'fe80::1%eth0'],
  uniqueLocal: ['fc00::1', 'fd12:3456::1', 'fdff:ffff::1'],
  multicast: ['224.0.0.1', '239.255.255.255', 'ff00::1', 'ff02::1', 'ff0e::1'],
  unspecified: ['0.0.0.0', '::', '0.1.2.3', '::ffff:0.0.0.0'],
  metadata: [
    '169.254.169.254',
    '::ffff:169.254.169.254',
    '169.254.170.2',
    '100.100.100.200',
    'fd00:ec2::254',
  ],
  reserved: [
    '255.255.255.255',
    '240.0.0.1',
    '192.0.2.1', // documentation
    '198.18.0.1', // benchmarking
    '2001:db8::1', // documentation
    '64:ff9b::7f00:1', // NAT64: may reach an embedded IPv4 address
    '2002:7f00:1::', // 6to4
    '2001::1', // Teredo
    '::7f00:2', // IPv4-compatible (deprecated): some stacks reach 127.0.0.2
    'fec0::1', // deprecated site-local
    'not an address',
    '',
    '2130706433', // legacy spellings are normalizeHost's job, never public here
    '127.1',
  ],
  public: [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '2a00:1450::1',
  ],
}

for (const cls of ADDRESS_CLASSES) {
  test(`class ${cls}`, () => {
    assert.ok(EXAMPLES[cls].length > 0)
    for (const address of EXAMPLES[cls]) assert.equal(classifyAddress(address), cls, address)
  })
}

test('range edges fall on the right side', () => {
  assert.equal(classifyAddress('9.255.255.255'), 'public')
  assert.equal(classifyAddress('11.0.0.0'), 'public')
  assert.equal(classifyAddress('172.15.255.255'), 'public')
  assert.equal(classifyAddress('192.167.255.255'), 'public')
  assert.equal(classifyAddress('100.63.255.255'), 'public')
  assert.equal(classifyAddress('169.253.255.255'), 'public')
  assert.equal(classifyAddress('fbff::1'), 'public')
  assert.equal(classifyAddress('febf:ffff::1'), 'linkLocal')
  // ipaddr.js reads `::127.0.0.1` (IPv4-compatible) as IPv4-mapped: loopback, which is still not public.
  assert.equal(classifyAddress('::127.0.0.1'), 'loopback')
})

test('classifyAddress accepts parsed addresses', () => {
  const ip = parseIp('::ffff:192.168.1.1')
  assert.ok(ip)
  assert.equal(ip.kind(), 'ipv4')
  assert.equal(classifyAddress(ip), 'private')
})

test('parseIp takes canonical spellings only and unwraps IPv4-mapped IPv6', () => {
  assert.equal(parseIp('[2001:db8::1]')?.toString(), '2001:db8::1')
  assert.equal(parseIp('fe80::1%eth0')?.toString(), 'fe80::1')
  assert.equal(parseIp('::ffff:127.0.0.2')?.toString(), '127.0.0.2')
  assert.equal(parseIp('127.1'), null)
  assert.equal(parseIp('0x7f000001'), null)
  assert.equal(parseIp('localhost'), null)
})
