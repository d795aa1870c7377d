// Issue 25 item 1: core keeps per-connection state for other packages without naming them. A package asks
// for a slot with a symbol of its own (`connectionSlot<T>(key)`) and reads and writes it per socket; core's
// memo has no field for any plugin.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { test } from 'node:test'
import { connectionMemo, connectionSlot } from '../src/index.js'

async function socketPair(t: import('node:test').TestContext): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const accepted = once(server, 'connection')
  const a = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  const [b] = (await accepted) as [net.Socket]
  t.after(() => {
    a.destroy()
    b.destroy()
    server.close()
  })
  return [a, b]
}

test('a slot is per connection and per key; the same key gives the same slot', async (t) => {
  const [s1, s2] = await socketPair(t)
  const keyA = Symbol('test.a')
  const a = connectionSlot<{ n: number }>(keyA)
  const b = connectionSlot<string>(Symbol('test.b'))
  assert.equal(a.key, keyA)
  assert.equal(a.get(s1), undefined, 'nothing before a set, and no memo is needed to ask')
  a.set(s1, { n: 1 })
  b.set(s1, 'one')
  a.set(s2, { n: 2 })
  assert.deepEqual(a.get(s1), { n: 1 })
  assert.equal(b.get(s1), 'one')
  assert.deepEqual(a.get(s2), { n: 2 })
  assert.equal(b.get(s2), undefined)
  const again = connectionSlot<{ n: number }>(keyA)
  assert.deepEqual(again.get(s1), { n: 1 }, 'asking again with the same symbol finds the same state')
  // Same description, another symbol: another slot.
  assert.equal(connectionSlot<{ n: number }>(Symbol('test.a')).get(s1), undefined)
})

test("core's memo names no consumer", async (t) => {
  const [s] = await socketPair(t)
  connectionSlot<number>(Symbol('test.c')).set(s, 3)
  const memo = connectionMemo(s) as unknown as Record<string, unknown>
  assert.ok(!('cache' in memo), 'no field for the cache')
  assert.deepEqual(
    Object.keys(memo).filter((k) => k !== 'slots'),
    ['hostHeader', 'hostname', 'peerIp', 'forwarding'],
  )
})
