import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { openTunnel, startProxy } from './helpers.js'

const IDLE_MS = 1000
const CHUNKS = 25 // one every 100 ms: about 2.5 times the idle timeout in all
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('a tunnel where only the origin talks (the client stays silent) is not idle and stays open', async (t) => {
  let originClosed = false
  let done: () => void = () => {}
  const finished = new Promise<void>((r) => {
    done = r
  })
  const origin = await startTcpOrigin((socket) => {
    socket.on('close', () => {
      originClosed = true
    })
    void (async () => {
      for (let i = 0; i < CHUNKS && !socket.destroyed; i++) {
        await pause(100)
        socket.write(`chunk ${i}\n`)
      }
      done()
    })()
  })
  const proxy = await startProxy({ connectPorts: [origin.port], tunnelIdleTimeout: IDLE_MS })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const client = await openTunnel(proxy.port, origin.port)
  let received = ''
  client.on('data', (c: Buffer) => {
    received += c.toString()
  })
  await finished
  const last = `chunk ${CHUNKS - 1}\n`
  const deadline = Date.now() + 5000
  while (!received.endsWith(last) && !client.destroyed && Date.now() < deadline) await pause(20)
  assert.equal(client.destroyed, false, 'the tunnel was closed while the origin was still sending')
  assert.equal(originClosed, false)
  // Every chunk came through in order (the first may ride in with the 200 that openTunnel consumed).
  const expected = Array.from({ length: CHUNKS }, (_, i) => `chunk ${i}\n`).join('')
  assert.ok(received.length > 0 && expected.endsWith(received), `unexpected bytes: ${received}`)
  assert.ok(received.startsWith('chunk 0\n') || received.startsWith('chunk 1\n'))

  // Once both sides are silent, the idle timeout still closes it.
  await once(client, 'close', { signal: AbortSignal.timeout(15_000) })
})

test('a tunnel where only the client talks (the origin stays silent) is not idle and stays open', async (t) => {
  let originClosed = false
  let bytes = 0
  const origin = await startTcpOrigin((socket) => {
    socket.on('data', (c: Buffer) => {
      bytes += c.length
    })
    socket.on('close', () => {
      originClosed = true
    })
  })
  const proxy = await startProxy({ connectPorts: [origin.port], tunnelIdleTimeout: IDLE_MS })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const client = await openTunnel(proxy.port, origin.port)
  for (let i = 0; i < CHUNKS && !client.destroyed; i++) {
    client.write('0123456789')
    await pause(100)
  }
  const deadline = Date.now() + 5000
  while (bytes < CHUNKS * 10 && Date.now() < deadline) await pause(20)
  assert.equal(client.destroyed, false, 'the tunnel was closed while the client was still sending')
  assert.equal(originClosed, false)
  assert.equal(bytes, CHUNKS * 10)
  await once(client, 'close', { signal: AbortSignal.timeout(15_000) })
})
