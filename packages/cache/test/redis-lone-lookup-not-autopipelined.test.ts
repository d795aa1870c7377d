// Issue 24 (shared-tier hit latency): a lookup with no other one in flight is written to Redis at once,
// not held for a turn of the event loop by the autopipelining of the client the gateway passes; lookups
// that overlap still share autopipelined writes. Both are answered.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { finished } from 'node:stream/promises'
import { test } from 'node:test'
import { redisForTests } from '@proxykit/core/testing'
import { Redis } from 'ioredis'
import { RedisStore } from '../src/stores/redis.js'

const redis = await redisForTests()
test.after(async () => redis?.stop())

test('a lone lookup skips autopipelining; overlapping ones use it', { skip: redis === null }, async (t) => {
  const client = new Redis(redis!.url, { enableAutoPipelining: true, lazyConnect: true })
  t.after(() => client.disconnect())
  await client.connect()
  const store = new RedisStore({ client, prefix: `test:${randomUUID()}:` })
  t.after(() => store.close())
  const key = { url: 'http://x/lone', headers: {} }
  const w = store.createWriteStream(key, {
    statusCode: 200,
    headers: { 'content-type': 'text/plain' },
    vary: null,
    tags: [],
    policy: {} as never,
    deleteAt: Date.now() + 60_000,
    size: 0,
  })
  assert.ok(w)
  w.end(Buffer.from('stored'))
  await finished(w)
  while (client.autoPipelineQueueSize > 0) await new Promise((r) => setImmediate(r))

  const lone = store.get(key)
  assert.equal(client.autoPipelineQueueSize, 0, 'the lone lookup was written, not queued')
  const second = store.get(key)
  assert.equal(client.autoPipelineQueueSize, 1, 'a lookup beside one in flight is autopipelined')
  for (const entry of await Promise.all([lone, second])) assert.equal(entry?.body.toString(), 'stored')
})
