// Issue 24's benchmark: a local-tier hit costs what a memory-store hit costs. The cache's lookup decides a
// store's answer in the same turn when it is not a promise (the memory store's hits); the local tier's
// hits are handed over the same way, and only a read that goes to Redis is a promise.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { finished } from 'node:stream/promises'
import { test } from 'node:test'
import { redisForTests } from '@proxykit/core/testing'
import { RedisStore } from '../src/stores/redis.js'
import { cachedResponse } from './entries.js'

const redis = await redisForTests()
test.after(async () => redis?.stop())

test('a local-tier hit is returned as the entry itself, a read from Redis as a promise', {
  skip: redis === null,
}, async (t) => {
  const store = new RedisStore({ url: redis!.url, prefix: `test:${randomUUID()}:`, local: 1024 * 1024 })
  t.after(() => store.close())
  await store.ready()
  const end = Date.now() + 10_000
  while (store.localTier?.trusted !== true && Date.now() < end) await new Promise((r) => setTimeout(r, 5))
  assert.equal(store.localTier?.trusted, true, 'subscribed')

  const key = { url: 'http://x/same-turn', headers: {} }
  const w = store.createWriteStream(key, cachedResponse())
  assert.ok(w)
  w.end(Buffer.from('body'))
  await finished(w)

  // Read until the local tier holds it (a read from Redis fills it as the copy's stream finishes).
  let answer = store.get(key)
  while (answer instanceof Promise && Date.now() < end) {
    assert.equal((await answer)?.body.toString(), 'body', 'from Redis')
    await new Promise((r) => setTimeout(r, 5))
    answer = store.get(key)
  }
  assert.ok(!(answer instanceof Promise), 'a local-tier hit is not a promise')
  assert.equal(answer?.body.toString(), 'body')
  assert.ok(store.localStats.hits >= 1)
  assert.ok(store.get({ url: 'http://x/not-there', headers: {} }) instanceof Promise, 'a miss asks Redis')
})
