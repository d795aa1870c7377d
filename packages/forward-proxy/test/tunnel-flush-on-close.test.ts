import assert from 'node:assert/strict'
import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import { test } from 'node:test'
import { startProxy } from './helpers.js'

// The origin answers and closes its side at once, while the client's upload is still on its way to an
// origin that reads slowly: the client's side of the tunnel finishes first, and the proxy must still
// deliver every byte it holds for the origin. (A race of this shape once lost the tail of an upload in
// tunnel-large.test.ts: a cleanly closed side destroyed the other before it had flushed.)
test('a side that closes cleanly first does not cut what the proxy still has to deliver to the other', async (t) => {
  const SIZE = 64 * 1024 * 1024
  let received = 0
  let gotAll!: () => void
  const allReceived = new Promise<void>((resolve) => {
    gotAll = resolve
  })
  const origin = net.createServer({ allowHalfOpen: true }, (socket) => {
    // Answer and close our side at once, then read slowly: the proxy must keep the upload buffered.
    socket.end('bye')
    socket.pause()
    setTimeout(() => {
      socket.on('data', (c: Buffer) => {
        received += c.length
      })
      socket.on('end', () => gotAll())
      socket.resume()
    }, 1000)
  })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  t.after(() => origin.close())
  const originPort = (origin.address() as AddressInfo).port
  const proxy = await startProxy({ connectPorts: [originPort] })
  t.after(() => proxy.app.close())

  const client = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true })
  await once(client, 'connect')
  const chunks: Buffer[] = []
  client.on('data', (c: Buffer) => chunks.push(c))
  client.write(`CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\n\r\n`)
  const deadline = Date.now() + 10_000
  while (!Buffer.concat(chunks).includes('\r\n\r\n') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10))
  client.end(Buffer.alloc(SIZE, 1))
  await once(client, 'close')
  const text = Buffer.concat(chunks).toString('latin1')
  assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4), 'bye')
  await Promise.race([allReceived, new Promise((r) => setTimeout(r, 20_000))])
  assert.equal(received, SIZE)
})
