// Issue 23 item 7: a percent-encoded control character (%00-%1F, %7F) in the path is refused with 400
// while classifying, before any plugin's rule runs: `/admin%00/x` is one opaque segment to a path rule
// but may be `/admin` to an origin that decodes it and stops at the NUL. The raw bytes never get that far
// (Node's parser refuses them in the request line); the query is the application's and is left alone.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hasEncodedControlInPath } from '../src/index.js'
import { rawRequest } from '../src/testing/index.js'
import { proxyShapedApp } from './fixtures/proxy-shaped-app.js'

const get = (target: string) =>
  Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1')

test('origin-form and absolute-form paths with an encoded control character get 400 and reach no route', async (t) => {
  const app = await proxyShapedApp()
  t.after(() => app.fastify.close())
  const refused = [
    '/admin%00/x',
    '/admin%00',
    '/a%0a',
    '/a%0D%0Ab',
    '/a%09b',
    '/a%1f',
    '/a%7f',
    '/a%7F?x=1',
    'http://127.0.0.2/admin%00/x',
    'http://127.0.0.2/a%0A?q',
  ]
  for (const target of refused) {
    const res = await rawRequest(app.port, get(target))
    assert.equal(res.statusCode, 400, target)
    assert.match(res.text, /encoded control character in path/, target)
  }
  assert.equal(app.handled(), 0)
})

test('raw control bytes and bytes above 0x7e in the request line are refused by the parser', async (t) => {
  const app = await proxyShapedApp()
  t.after(() => app.fastify.close())
  for (const target of ['/a\x00b', '/a\x01b', '/a\tb', '/a\x7fb', '/a\x80b', '/a\xffb']) {
    const res = await rawRequest(app.port, get(target))
    assert.equal(res.statusCode, 400, JSON.stringify(target))
  }
  assert.equal(app.handled(), 0)
})

test('other encodings and encoded controls in the query pass', async (t) => {
  const app = await proxyShapedApp()
  t.after(() => app.fastify.close())
  for (const target of ['/a%20b', '/a%2Fb', '/caf%C3%A9', '/%61dmin', '/search?q=%00%0A', '/a?%7f']) {
    const res = await rawRequest(app.port, get(target))
    assert.equal(res.statusCode, 200, target)
  }
  assert.equal(app.handled(), 6)
})

test('hasEncodedControlInPath looks at the path only', () => {
  for (const s of ['/%00', '/x%1F', '/%7f/', 'a%0d', '/%00?x'])
    assert.equal(hasEncodedControlInPath(s), true, s)
  for (const s of ['/', '/%20', '/%2f', '/%8f', '/%70', '/?%00', '/a?b%0a', '/%2', '/%'])
    assert.equal(hasEncodedControlInPath(s), false, s)
})
