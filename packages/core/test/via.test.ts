import assert from 'node:assert/strict'
import { test } from 'node:test'
import { appendVia, viaEntry, viaHasLoop } from '../src/index.js'

test('viaEntry uses the protocol version the request arrived with', () => {
  assert.equal(viaEntry('1.1', 'proxykit'), '1.1 proxykit')
  assert.equal(viaEntry('1.0', 'proxykit'), '1.0 proxykit')
  assert.equal(viaEntry('2.0', 'edge'), '2 edge')
})

test('appendVia adds our entry after what was there', () => {
  assert.equal(appendVia(undefined, '1.1 me'), '1.1 me')
  assert.equal(appendVia('', '1.1 me'), '1.1 me')
  assert.equal(appendVia('1.0 fred', '1.1 me'), '1.0 fred, 1.1 me')
  assert.equal(appendVia(['1.0 fred', '1.1 p.example.net'], '1.1 me'), '1.0 fred, 1.1 p.example.net, 1.1 me')
})

test('viaHasLoop finds our pseudonym among several entries, case-insensitively', () => {
  assert.equal(viaHasLoop('1.0 fred, 1.1 ProxyKit, 1.1 other', 'proxykit'), true)
  assert.equal(viaHasLoop('1.0 fred, 1.1 other', 'proxykit'), false)
  assert.equal(viaHasLoop(['1.0 fred', 'HTTP/1.1 PROXYKIT'], 'proxykit'), true)
  assert.equal(viaHasLoop(undefined, 'proxykit'), false)
  assert.equal(viaHasLoop('', 'proxykit'), false)
})

test('viaHasLoop handles protocol names, comments after the receiver, and tabs', () => {
  assert.equal(viaHasLoop('HTTP/1.1 me (Apache/2.4)', 'me'), true)
  assert.equal(viaHasLoop('1.1\tme\t(comment)', 'me'), true)
  assert.equal(viaHasLoop('1.1 me:8080', 'me'), false)
  assert.equal(viaHasLoop('1.1 me:8080', 'me:8080'), true)
})

test('our name inside a comment is not a loop, even with commas and nesting in the comment', () => {
  assert.equal(viaHasLoop('1.1 a (hello, 1.1 me)', 'me'), false)
  assert.equal(viaHasLoop('1.1 a (x (nested, 1.1 me) y), 1.1 b', 'me'), false)
  assert.equal(viaHasLoop('1.1 a (escaped \\) paren, 1.1 me), 1.1 b', 'me'), false)
  assert.equal(viaHasLoop('1.1 a (hello, 1.1 me), 1.0 Me', 'me'), true)
})

test('a name that merely contains ours is not a loop', () => {
  assert.equal(viaHasLoop('1.1 me2, 1.1 ame', 'me'), false)
  assert.equal(viaHasLoop('me', 'me'), false)
})
