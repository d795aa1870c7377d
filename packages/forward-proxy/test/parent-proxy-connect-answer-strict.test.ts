import assert from 'node:assert/strict'
import type net from 'node:net'
import { type TestContext, test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

// The parent proxy's answer to our CONNECT is read by core's response-head parser: a status line that is
// not one, or a head with bare LF line endings, is a 502 at once; a 2xx opens the tunnel, with any
// Content-Length on it ignored (RFC 9112 §6.3 ¶2).

async function parentAnswering(t: TestContext, answer: string, after?: (socket: net.Socket) => void) {
  // A raw parent: answers the CONNECT head with `answer`, then echoes what comes through the tunnel.
  const parent = await startTcpOrigin((socket) => {
    let head = ''
    let open = false
    socket.on('data', (chunk: Buffer) => {
      if (open) {
        socket.write(chunk)
        return
      }
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      open = true
      socket.write(answer)
      after?.(socket)
      const rest = head.slice(end + 4)
      if (rest.length > 0 && !socket.destroyed) socket.write(rest)
    })
  })
  t.after(() => parent.close())
  const proxy = await startProxy({ parentProxy: `http://127.0.0.1:${parent.port}`, connectPorts: [443] })
  t.after(() => proxy.app.close())
  return proxy
}

test('a parent answering a four-digit status (2000) is a 502, not an open tunnel', async (t) => {
  const proxy = await parentAnswering(t, 'HTTP/1.1 2000 Connection Established\r\n\r\n')
  const res = await send(proxy.port, 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n')
  assert.equal(res.statusCode, 502)
  assert.match(res.body.toString(), /PK_BAD_GATEWAY/)
  assert.match(res.body.toString(), /invalid status line/)
})

test('a parent answering with bare LF line endings is a 502 at once, not a timeout', async (t) => {
  const proxy = await parentAnswering(t, 'HTTP/1.1 200 Connection Established\n\n')
  const started = performance.now()
  const res = await send(proxy.port, 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n')
  assert.equal(res.statusCode, 502)
  assert.match(res.body.toString(), /bare LF/)
  assert.ok(performance.now() - started < 8000, 'not the connect timeout (10 s by default)')
})

test('a 200 with a Content-Length opens the tunnel: the length is ignored', async (t) => {
  const proxy = await parentAnswering(t, 'HTTP/1.1 200 Connection Established\r\nContent-Length: 5\r\n\r\n')
  const res = await send(proxy.port, 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\nthrough')
  assert.equal(res.statusCode, 200)
  assert.equal(res.body.toString(), 'through')
})
