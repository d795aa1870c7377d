import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Origin, startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

/**
 * Counts the connections an origin accepts, and keeps idle ones open for a minute (undici follows the
 * server's Keep-Alive hint): in these tests only an eviction closes them.
 */
function counted(origin: Origin): () => number {
  origin.server.keepAliveTimeout = 60_000
  let n = 0
  origin.server.on('connection', () => n++)
  return () => n
}

async function get(proxyPort: number, origin: Origin): Promise<void> {
  const res = await send(
    proxyPort,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 200)
}

/** Waits (bounded) until the origin holds no open socket: its pool was closed. */
async function drained(origin: Origin): Promise<void> {
  const deadline = Date.now() + 5000
  while (origin.openSockets > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  assert.equal(origin.openSockets, 0, 'the evicted pool kept its connection open')
}

test('beyond maxOrigins the least recently used origin pool is closed, its sockets with it', async (t) => {
  const a = await startOrigin()
  const b = await startOrigin()
  const aConnections = counted(a)
  const bConnections = counted(b)
  const proxy = await startProxy({ maxOrigins: 1, keepAliveTimeout: 60_000 })
  t.after(() => Promise.all([proxy.app.close(), a.close(), b.close()]))

  await get(proxy.port, a)
  assert.equal(a.openSockets, 1)
  await get(proxy.port, b)
  await drained(a)
  assert.equal(b.openSockets, 1)
  await get(proxy.port, a)
  await drained(b)
  await get(proxy.port, b)
  assert.deepEqual([aConnections(), bConnections()], [2, 2])
})

test('a pool used again is the most recent: the one evicted is the least recently used, not the oldest', async (t) => {
  const a = await startOrigin()
  const b = await startOrigin()
  const c = await startOrigin()
  const aConnections = counted(a)
  const bConnections = counted(b)
  const proxy = await startProxy({ maxOrigins: 2, keepAliveTimeout: 60_000 })
  t.after(() => Promise.all([proxy.app.close(), a.close(), b.close(), c.close()]))

  await get(proxy.port, a)
  await get(proxy.port, b)
  await get(proxy.port, a) // a is now more recent than b
  await get(proxy.port, c) // a third pool: b goes
  await drained(b)
  assert.equal(a.openSockets, 1)
  await get(proxy.port, a)
  assert.equal(aConnections(), 1, 'a was evicted although b was less recently used')
  await get(proxy.port, b)
  assert.equal(bConnections(), 2)
})
