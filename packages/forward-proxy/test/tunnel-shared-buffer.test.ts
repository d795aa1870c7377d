import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { startProxy } from './helpers.js'

const TUNNELS = 4
const SIZE = 16 * 1024 * 1024
const CHUNK = 64 * 1024

/** Origin `id`'s bytes: a sequence no other origin sends, chunk by chunk. */
function* bytesOf(id: number): Generator<Buffer> {
  for (let offset = 0; offset < SIZE; offset += CHUNK) {
    const chunk = Buffer.allocUnsafe(CHUNK)
    for (let i = 0; i < CHUNK; i++) chunk[i] = (id * 97 + ((offset + i) % 251)) & 0xff
    yield chunk
  }
}

function expectedHash(id: number): string {
  const h = createHash('sha256')
  for (const chunk of bytesOf(id)) h.update(chunk)
  return h.digest('hex')
}

/** Opens a tunnel and returns the socket with whatever arrived after the 200's head. */
async function openTunnel(proxyPort: number, port: number): Promise<{ socket: net.Socket; rest: Buffer }> {
  const socket = net.connect(proxyPort, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
  let buf = Buffer.alloc(0)
  while (buf.indexOf('\r\n\r\n') === -1) {
    const [chunk] = (await once(socket, 'data')) as [Buffer]
    buf = Buffer.concat([buf, chunk])
  }
  const end = buf.indexOf('\r\n\r\n')
  assert.match(buf.subarray(0, end).toString(), /^HTTP\/1\.1 200 /)
  socket.pause()
  return { socket, rest: buf.subarray(end + 4) }
}

// Every directly dialled upstream reads into one buffer shared by all tunnels (src/splice.ts). Slow
// clients make the proxy's writes to them queue while the other tunnels keep reading: each client must
// still receive exactly its own origin's bytes.
test('concurrent tunnels to slow clients each get their own origin’s bytes, intact', {
  timeout: 120_000,
}, async (t) => {
  const origins: net.Server[] = []
  const ports: number[] = []
  for (let id = 0; id < TUNNELS; id++) {
    const server = net.createServer((socket) => {
      socket.on('error', () => {})
      Readable.from(bytesOf(id)).pipe(socket)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    origins.push(server)
    ports.push((server.address() as AddressInfo).port)
  }
  const proxy = await startProxy({ connectPorts: ports })
  t.after(async () => {
    await proxy.app.close()
    for (const s of origins) s.close()
  })

  const tunnels = await Promise.all(ports.map((port) => openTunnel(proxy.port, port)))
  t.after(() => {
    for (const { socket } of tunnels) socket.destroy()
  })
  // Nobody reads for a while: the proxy's writes to the clients back up.
  await new Promise((r) => setTimeout(r, 500))
  const received = await Promise.all(
    tunnels.map(({ socket, rest }) => {
      const h = createHash('sha256').update(rest)
      let bytes = rest.length
      socket.on('data', (c: Buffer) => {
        h.update(c)
        bytes += c.length
      })
      socket.resume()
      return once(socket, 'end').then(() => ({ sha256: h.digest('hex'), bytes }))
    }),
  )
  for (let id = 0; id < TUNNELS; id++) {
    assert.equal(received[id]!.bytes, SIZE, `tunnel ${id}: byte count`)
    assert.equal(received[id]!.sha256, expectedHash(id), `tunnel ${id}: its origin's bytes`)
  }
})
