// Issue 25 item 1: what the reverse proxy reads of @fastify/websocket's internals (src/internals.ts), with
// the real plugin: when its 'upgrade' listener routes a request, the bytes that arrived after the request
// head are on the request under a symbol described 'ws-head'. Without them a client's first frame, sent
// with its upgrade request, would be lost on the way upstream.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { test } from 'node:test'
import websocket from '@fastify/websocket'
import Fastify from 'fastify'
import { websocketHead } from '../src/internals.js'

test("@fastify/websocket keeps the bytes after an upgrade's head on the request as 'ws-head'", async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(websocket)
  let seen: Buffer | undefined | null = null
  app.addHook('onRequest', (request, _reply, done) => {
    seen = websocketHead(request.raw)
    done()
  })
  app.get('/ws', { websocket: true }, (socket) => socket.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const socket = net.connect((app.server.address() as net.AddressInfo).port, '127.0.0.1')
  t.after(() => socket.destroy())
  await once(socket, 'connect')
  const extra = Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69])
  const head =
    'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
  // One write: the frame arrives in the same read as the head, which is what Node hands over as `head`.
  socket.write(Buffer.concat([Buffer.from(head, 'latin1'), extra]))
  const [answer] = (await once(socket, 'data')) as [Buffer]
  assert.match(answer.toString('latin1'), /^HTTP\/1\.1 101 /)
  assert.ok(seen !== null, 'the onRequest hook ran for the upgrade')
  assert.ok(Buffer.isBuffer(seen), "@fastify/websocket no longer keeps the upgrade head under 'ws-head'")
  assert.deepEqual(seen, extra)
})
