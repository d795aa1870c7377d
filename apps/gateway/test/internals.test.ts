// Issue 25 item 1: what the gateway reads of Node's internals (src/internals.ts), against the real node:tls:
// a TLS server's TLSSocket keeps the plain socket it was made over as `_parent`. The PROXY protocol on TLS
// listeners sets the client's address on that socket; if Node moved it, TLS listeners would log and rule
// on the load balancer's address instead of the client's.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type net from 'node:net'
import { test } from 'node:test'
import tls from 'node:tls'
import { tlsParent } from '../src/internals.js'
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
