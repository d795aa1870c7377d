// What core writes into request.proxy for each request-target form (RFC 9112 §3.2), over real sockets.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest } from '../src/testing/index.js'
import { proxyShapedApp } from './fixtures/proxy-shaped-app.js'

const EMPTY_SLICES = {
  direction: null,
  access: null,
  cache: null,
  upstream: null,
  responseFilters: [],
  connectGuards: [],
}

async function classify(bytes: string) {
  const app = await proxyShapedApp()
  try {
    const res = await rawRequest(app.port, bytes)
    assert.equal(res.statusCode, 200, res.text)
    const { url, proxy } = JSON.parse(res.body.toString())
    assert.equal('startTime' in proxy, false, 'durations come from reply.elapsedTime')
    return { url, proxy }
  } finally {
    await app.fastify.close()
  }
}

test('origin-form: no target, the normalised Host', async () => {
  const { url, proxy } = await classify(
    'GET /a?b=1 HTTP/1.1\r\nHost: WWW.Example.TEST.:8080\r\nConnection: close\r\n\r\n',
  )
  assert.equal(url, '/a?b=1')
  assert.deepEqual(proxy, { form: 'origin', target: null, host: 'www.example.test', ...EMPTY_SLICES })
})

test('origin-form with an empty Host (allowed when the target has no authority): host null', async () => {
  const { proxy } = await classify('GET / HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n')
  assert.equal(proxy.host, null)
  assert.equal(proxy.form, 'origin')
})

test('absolute-form: the target, normalised; Host is ignored (RFC 9112 §3.2.2); routed to FORWARD_PATH', async () => {
  const { url, proxy } = await classify(
    'GET http://0x7f000002:8080/p?q HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n',
  )
  assert.equal(url, '/__proxykit/forward')
  assert.deepEqual(proxy, {
    form: 'absolute',
    target: {
      scheme: 'http',
      hostname: '127.0.0.2',
      family: 4,
      port: 8080,
      authority: '127.0.0.2:8080',
      path: '/p?q',
    },
    host: null,
    ...EMPTY_SLICES,
  })
})

test('absolute-form https with IPv6', async () => {
  const { proxy } = await classify('GET https://[::1]/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.deepEqual(proxy.target, {
    scheme: 'https',
    hostname: '::1',
    family: 6,
    port: 443,
    authority: '[::1]',
    path: '/',
  })
})

test('authority-form (CONNECT) enters the lifecycle and is classified from the original target', async () => {
  const { url, proxy } = await classify('CONNECT 127.2:443 HTTP/1.1\r\nHost: 127.2:443\r\n\r\n')
  assert.equal(url, '/__proxykit/connect')
  assert.deepEqual(proxy, {
    form: 'authority',
    target: {
      scheme: 'https',
      hostname: '127.0.0.2',
      family: 4,
      port: 443,
      authority: '127.0.0.2:443',
      path: '',
    },
    host: '127.0.0.2',
    ...EMPTY_SLICES,
  })
})

test('asterisk-form on OPTIONS', async () => {
  const { proxy } = await classify('OPTIONS * HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n')
  assert.deepEqual(proxy, { form: 'asterisk', target: null, host: 'a.test', ...EMPTY_SLICES })
})
