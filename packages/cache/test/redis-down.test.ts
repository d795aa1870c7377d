import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { startRedisServer } from '@proxykit/core/testing'
import { RedisStore } from '../src/stores/redis.js'
import { respond, setup } from './helpers.js'

let available = true
try {
  const probe = await startRedisServer()
  await probe.stop()
} catch {
  available = false
}

test('with Redis down the cache bypasses (and logs) instead of failing requests', {
  skip: !available && !process.env.CI,
}, async (t) => {
  const server = await startRedisServer()
  t.after(() => server.stop())
  const store = new RedisStore({ url: server.url, prefix: `test:${randomUUID()}:` })
  t.after(() => store.close())
  await store.ready()
  const logs: string[] = []
  const logger = { level: 'warn', stream: { write: (line: string) => logs.push(line) } }
  const s = await setup(t, respond({ 'cache-control': 'max-age=60' }), { store }, undefined, { logger })
  await s.get('/r')
  for (let i = 0; i < 20 && !/hit/.test((await s.get('/r')).headers['cache-status']!); i++)
    await new Promise((r) => setTimeout(r, 50))
  const hitsBefore = s.origin.hits

  await server.stop()
  const down = await s.get('/r')
  assert.equal(down.status, 200)
  assert.equal(down.body, 'hello')
  assert.match(down.headers['cache-status']!, /fwd=bypass; fwd-status=200; detail=store-error/)
  assert.equal(s.origin.hits, hitsBefore + 1)
  const m = s.app.proxyCache.metrics()
  assert.ok(m.errors >= 1)
  assert.ok(m.bypass >= 1)
  assert.ok(
    logs.some((l) => l.includes('store unavailable, bypassing the cache')),
    'the bypass is logged',
  )

  await server.restart()
  await store.ready(10_000)
  // Back up: the entry is still there (the server kept no data: it restarted empty), so a miss then a hit.
  await s.get('/r')
  let last = await s.get('/r')
  for (let i = 0; i < 20 && !/hit/.test(last.headers['cache-status']!); i++) {
    await new Promise((r) => setTimeout(r, 50))
    last = await s.get('/r')
  }
  assert.match(last.headers['cache-status']!, /hit/)
})

test('a client you pass, with ioredis defaults (offline queue on), bypasses at once while Redis is down', {
  skip: !available && !process.env.CI,
}, async (t) => {
  const { Redis } = await import('ioredis')
  const server = await startRedisServer()
  const url = server.url
  await server.stop()
  // Nothing listens on the port now: the client keeps reconnecting and would queue every command.
  const client = new Redis(url, { retryStrategy: () => 100 })
  client.on('error', () => {})
  t.after(() => client.disconnect())
  const store = new RedisStore({ client, prefix: `test:${randomUUID()}:` })
  const s = await setup(t, respond({ 'cache-control': 'max-age=60' }), { store })
  const started = Date.now()
  for (let i = 0; i < 3; i++) {
    const r = await s.get('/r')
    assert.equal(r.status, 200)
    assert.match(r.headers['cache-status']!, /fwd=bypass; fwd-status=200; detail=store-error/)
  }
  assert.equal(s.origin.hits, 3)
  assert.ok(Date.now() - started < 2000, `three bypasses took ${Date.now() - started} ms`)
})
