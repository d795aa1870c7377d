import assert from 'node:assert/strict'
import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import { test } from 'node:test'
import { watchIdle } from '../src/index.js'

/** A connected pair of loopback sockets: [client side, server side]. */
async function pair(t: { after(fn: () => unknown): void }): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1')
  const [accepted] = (await once(server, 'connection')) as [net.Socket]
  await once(client, 'connect')
  t.after(() => {
    client.destroy()
    accepted.destroy()
    server.close()
  })
  return [client, accepted]
}

test('watchIdle calls back once a pair of sockets reads nothing for idleMs, not while bytes flow', async (t) => {
  const IDLE_MS = 300
  const [quietA, quietB] = await pair(t)
  const [busyA, busyB] = await pair(t)
  const started = Date.now()
  let quietAt = 0
  let busyIdle = 0
  const stopQuiet = watchIdle(quietA, quietB, IDLE_MS, () => {
    quietAt = Date.now()
  })
  const stopBusy = watchIdle(busyA, busyB, IDLE_MS, () => busyIdle++)
  t.after(() => {
    stopQuiet()
    stopBusy()
  })
  busyB.resume()
  // Bytes every 50 ms for three idle periods: the busy pair is never idle that long.
  for (let i = 0; i < 18; i++) {
    busyA.write('x')
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.equal(busyIdle, 0, 'a pair with bytes flowing is not idle')
  assert.ok(quietAt > 0, 'the silent pair was reported idle')
  assert.ok(
    quietAt - started >= IDLE_MS,
    `reported after ${quietAt - started} ms, before ${IDLE_MS} ms of silence`,
  )
  stopBusy()
  await new Promise((r) => setTimeout(r, IDLE_MS * 3))
  assert.equal(busyIdle, 0, 'a stopped watch never calls back')
})
