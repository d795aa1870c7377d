// Issue 25 item 1: what the gateway reads of Node's internals (src/internals.ts), against the real node:tls
// and node:http. node:tls:
// a TLS server's TLSSocket keeps the plain socket it was made over as `_parent`. The PROXY protocol on TLS
// listeners sets the client's address on that socket; if Node moved it, TLS listeners would log and rule
// on the load balancer's address instead of the client's.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import type net from 'node:net'
import { connect as netConnect } from 'node:net'
import { test } from 'node:test'
import tls from 'node:tls'
import { headUnwritten, insertIntoHead, tlsParent } from '../src/internals.js'
import { createTestCa } from './helpers/tls.js'

test("a TLS server's socket keeps the plain socket under it as _parent", async (t) => {
  const ca = await createTestCa(t)
  const leaf = await ca.issue(['localhost'])
  const plain: net.Socket[] = []
  const server = tls.createServer({ cert: leaf.cert, key: leaf.key })
  server.prependListener('connection', (s: net.Socket) => plain.push(s))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  const secured = once(server, 'secureConnection')
  const client = tls.connect({
    port: (server.address() as net.AddressInfo).port,
    host: '127.0.0.1',
    servername: 'localhost',
    ca: ca.cert,
  })
  t.after(() => client.destroy())
  const [tlsSocket] = (await secured) as [tls.TLSSocket]
  t.after(() => tlsSocket.destroy())
  const parent = tlsParent(tlsSocket)
  assert.ok(parent !== undefined, "node:tls no longer keeps the underlying socket as '_parent'")
  assert.notEqual(parent, tlsSocket)
  assert.equal(parent, plain[0], "the parent is the server's accepted socket")
})

// The helmet block of a route goes into the head Node built in writeHead (src/routes/response-head.ts); if
// Node stopped keeping that head as `_header` until the first write, helmet's headers would vanish.
test('an HTTP/1.1 response keeps its head as text in _header from writeHead to the first write', async (t) => {
  const server = http.createServer((_req, res) => {
    assert.equal(headUnwritten(res), true, 'a fresh response has no head yet')
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' })
    assert.equal(headUnwritten(res), false)
    assert.equal(
      insertIntoHead(res, 'x-inserted: yes\r\n'),
      true,
      "node:http no longer keeps the head in '_header'",
    )
    res.end('ok')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  const { port } = server.address() as net.AddressInfo
  const raw = await new Promise<string>((resolve, reject) => {
    let text = ''
    const socket = netConnect(port, '127.0.0.1', () =>
      socket.end('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'),
    )
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      text += chunk
    })
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
  })
  const [status, second] = raw.split('\r\n')
  assert.equal(status, 'HTTP/1.1 200 OK')
  assert.equal(second, 'x-inserted: yes', 'the text follows the status line')
  assert.match(raw, /\r\ncontent-length: 2\r\n[\s\S]*\r\n\r\nok$/)
})
