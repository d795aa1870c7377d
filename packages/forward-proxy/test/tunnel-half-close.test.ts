import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { startProxy } from './helpers.js'

test('a tunnel passes a half-close on: the client ends its side and still reads the answer', async (t) => {
  // The origin answers only once the client has finished sending (FIN), then closes its side.
  const origin = await startTcpOrigin((socket, received) => {
    socket.on('end', () => socket.end(`got ${Buffer.concat(received).toString()}`))
  })
  origin.server.on('connection', (s) => s.setNoDelay(true))
  const proxy = await startProxy({ connectPorts: [origin.port] })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const client = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true })
  t.after(() => client.destroy())
  await once(client, 'connect')
  client.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`)
  const chunks: Buffer[] = []
  client.on('data', (c: Buffer) => chunks.push(c))
  // Wait for the tunnel, then send and half-close.
  const deadline = Date.now() + 10_000
  while (!Buffer.concat(chunks).includes('\r\n\r\n') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 200 Connection Established\r\n\r\n$/)
  client.write('first ')
  client.end('and last')
  await once(client, 'end')
  const all = Buffer.concat(chunks).toString()
  assert.equal(all.slice(all.indexOf('\r\n\r\n') + 4), 'got first and last')
})
