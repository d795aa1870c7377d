// Malformed request-targets get a 400 with a one-line body that says what is wrong, both from the parsers
// and over the wire (through an app wired like the forward proxy, so core classifies the original target).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isProxyError, parseAbsoluteTarget, parseAuthorityTarget, parseHostHeader } from '../src/index.js'
import { assertErrorBody, rawRequest } from '../src/testing/index.js'
import { proxyShapedApp } from './fixtures/proxy-shaped-app.js'

const ABSOLUTE: [string, RegExp][] = [
  ['ftp://127.0.0.2/', /scheme "ftp" is not proxied/],
  ['file:///etc/passwd', /scheme "file" is not proxied/],
  ['gopher://127.0.0.2:70/', /not proxied/],
  ['http://allowed@127.0.0.2/', /userinfo is not allowed/],
  ['http://user:pw@127.0.0.2/', /userinfo is not allowed/],
  ['http://127.0.0.2:0/', /invalid port/],
  ['http://127.0.0.2:65536/', /invalid port/],
  ['http://127.0.0.2:+80/', /invalid port/],
  ['http://127.0.0.2:8o/', /invalid port/],
  ['http://127.0.0.2:123456/', /invalid port/],
  ['http:///path', /invalid host/],
  ['http://:80/', /invalid host/],
  ['http://a b/', /invalid character in host/],
  ['http://127.0.0.2/a b', /invalid character in path/],
  ['http://127.0.0.2/a\tb', /invalid character in path/],
  ['http://127.0.0.2/a\x01b', /invalid character in path/],
  ['http://127.0.0.2/#fragment', /invalid character in path/],
  ['http://127.0.0.2/%zz', /invalid character in path/],
  ['http://127.0.0.2/%4', /invalid character in path/],
  ['http://127.0.0.2/?q=%G0', /invalid character in path/],
  ['http://a%zz.test/', /invalid host/],
  ['http://[::1/', /malformed authority/],
  ['http://[::1]x/', /malformed authority/],
  ['http://[zz::1]/', /invalid host/],
  ['http://1.2.3.4.5/', /invalid host/],
  ['http://256.1.1.1/', /invalid host/],
  ['http://a..b/', /invalid host/],
  ['http://a:1:2/', /malformed authority/],
  ['http://bücher.example/', /invalid character in host/],
  ['*', /not an absolute URI/],
  ['127.0.0.2:80', /not an absolute URI/],
  ['//127.0.0.2/', /not an absolute URI/],
]

test('parseAbsoluteTarget refuses every malformed shape with a coded 400 that says why', () => {
  for (const [url, why] of ABSOLUTE) {
    const r = parseAbsoluteTarget(url)
    assert.ok(isProxyError(r), `${JSON.stringify(url)} must be refused`)
    assert.equal(r.statusCode, 400)
    assert.equal(r.code, 'PK_BAD_TARGET')
    assert.match(r.message, why, url)
  }
})

test('parseAuthorityTarget (CONNECT) needs host:port and nothing else', () => {
  const bad: [string, RegExp][] = [
    ['127.0.0.2', /needs host:port/],
    ['[::1]', /needs host:port/],
    ['127.0.0.2:', /invalid port/],
    ['127.0.0.2:0', /invalid port/],
    ['127.0.0.2:65536', /invalid port/],
    ['127.0.0.2:https', /invalid port/],
    [':443', /invalid host/],
    ['user@127.0.0.2:443', /not host:port/],
    ['127.0.0.2:443/path', /not host:port/],
    ['http://127.0.0.2:443', /not host:port/],
    ['a b:443', /invalid character/],
  ]
  for (const [authority, why] of bad) {
    const r = parseAuthorityTarget(authority)
    assert.ok(isProxyError(r), `${authority} must be refused`)
    assert.equal(r.statusCode, 400)
    assert.match(r.message, why, authority)
  }
})

test('parseHostHeader refuses bad ports, spaces and controls', () => {
  for (const value of ['a:0', 'a:99999', 'a:x', 'a b', 'a\x01', '[::1', 'a:1:2', 'b\u00fccher.example']) {
    const r = parseHostHeader(value)
    assert.ok(isProxyError(r), value)
    assert.equal(r.code, 'PK_BAD_HOST')
  }
})

const WIRE: [string, string, string][] = [
  [
    'bad scheme',
    'GET ftp://127.0.0.2/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'Bad request-target: scheme "ftp" is not proxied\n',
  ],
  [
    'userinfo',
    'GET http://allowed@127.0.0.2/ HTTP/1.1\r\nHost: allowed\r\n\r\n',
    'Bad request-target: userinfo is not allowed in a request-target\n',
  ],
  [
    'bad port',
    'GET http://127.0.0.2:99999/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'Bad request-target: invalid port\n',
  ],
  ['empty host', 'GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n', 'Bad request-target: invalid host\n'],
  [
    'bad percent-encoding',
    'GET http://127.0.0.2/%zz HTTP/1.1\r\nHost: x\r\n\r\n',
    'Bad request-target: invalid character in path or query\n',
  ],
  [
    'CONNECT without a port',
    'CONNECT 127.0.0.2 HTTP/1.1\r\nHost: 127.0.0.2\r\n\r\n',
    'Bad request-target: CONNECT needs host:port\n',
  ],
  [
    'CONNECT with a path',
    'CONNECT 127.0.0.2:443/x HTTP/1.1\r\nHost: x\r\n\r\n',
    'Bad request-target: not host:port\n',
  ],
  ['asterisk-form on GET', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', 'Bad request-target: not an absolute URI\n'],
  ['bad Host port', 'GET / HTTP/1.1\r\nHost: x:0\r\n\r\n', 'Bad Host header: invalid port\n'],
  ['space in Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 'Bad Host header: invalid character\n'],
]

for (const [name, bytes, body] of WIRE) {
  test(`over the wire: ${name} → 400 with a clear coded JSON body`, async (t) => {
    const app = await proxyShapedApp()
    t.after(() => app.fastify.close())
    const res = await rawRequest(app.port, bytes)
    assert.equal(res.statusCode, 400, res.text)
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    const message = body.trimEnd()
    assertErrorBody(res.body, {
      statusCode: 400,
      code: message.startsWith('Bad Host header') ? 'PK_BAD_HOST' : 'PK_BAD_TARGET',
      message,
    })
    assert.equal(app.handled(), 0)
  })
}

test('over the wire: spaces and control characters in the target are refused before any handler', async (t) => {
  const app = await proxyShapedApp()
  t.after(() => app.fastify.close())
  for (const target of ['http://127.0.0.2/a\x01b', 'http://127.0.0.2/a\x7fb', 'http://a b/']) {
    const res = await rawRequest(app.port, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`)
    assert.equal(res.statusCode, 400, JSON.stringify(target))
  }
  assert.equal(app.handled(), 0)
})

test('over the wire: a valid absolute-form target on the same app is classified and handled', async (t) => {
  const app = await proxyShapedApp()
  t.after(() => app.fastify.close())
  const res = await rawRequest(
    app.port,
    'GET http://127.0.0.2:8080/a?b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  )
  assert.equal(res.statusCode, 200)
  assert.equal(JSON.parse(res.body.toString()).proxy.target.authority, '127.0.0.2:8080')
  assert.equal(app.handled(), 1)
})
