import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { curl, startH2Proxy } from './http2-helpers.js'

// Node's Http2ServerResponse throws on connection-specific fields (RFC 9113 §8.2.2): an upstream's
// Connection, Keep-Alive, Transfer-Encoding, Upgrade and Proxy-Connection never reach an HTTP/2
// client's head, and the chunked body arrives decoded, byte for byte.
test('an upstream’s connection-specific fields are not passed to HTTP/2 clients', async (t) => {
  const origin = await startTcpOrigin((socket) => {
    socket.once('data', () =>
      socket.end(
        'HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nKeep-Alive: timeout=5\r\nProxy-Connection: close\r\n' +
          'Upgrade: h2c\r\nX-Hop: 1\r\nX-Kept: yes\r\nTransfer-Encoding: chunked\r\n\r\n' +
          '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      ),
    )
  })
  t.after(() => origin.close())
  const proxy = await startH2Proxy(t, {
    routes: [{ prefix: '/', upstreams: [`http://127.0.0.1:${origin.port}`] }],
  })
  for (const flag of ['--http2', '--http1.1']) {
    const res = await curl(`${proxy.url}/fields`, [flag])
    assert.equal(res.status, 200, `${flag}: ${res.body}`)
    assert.equal(res.version, flag === '--http2' ? '2' : '1.1')
    assert.equal(res.body, 'hello world')
    assert.equal(res.headers['x-kept'], 'yes')
    for (const name of ['keep-alive', 'proxy-connection', 'upgrade', 'x-hop'])
      assert.equal(res.headers[name], undefined, `${flag}: ${name}`)
    if (flag === '--http2') {
      assert.equal(res.headers.connection, undefined)
      assert.equal(res.headers['transfer-encoding'], undefined)
    }
  }
})
