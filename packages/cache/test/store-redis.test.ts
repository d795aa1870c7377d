import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { redisForTests } from '@proxykit/core/testing'
import { RedisStore } from '../src/stores/redis.js'
import { storeConformance } from './store-conformance.js'

const redis = await redisForTests()
test.after(async () => redis?.stop())

storeConformance(
  'RedisStore',
  async (t) => {
    if (redis === null) return null
    const store = new RedisStore({
      url: redis.url,
      prefix: `test:${randomUUID()}:`,
      maxEntrySize: 1024 * 1024,
    })
    t.after(() => store.close())
    await store.ready()
    return store
  },
  1024 * 1024,
)

test('RedisStore keys carry a TTL bound to deleteAt', { skip: redis === null }, async (t) => {
  const prefix = `test:${randomUUID()}:`
  const store = new RedisStore({ url: redis!.url, prefix })
  t.after(() => store.close())
  await store.ready()
  const w = store.createWriteStream(
    { url: 'http://x/ttl', headers: {} },
    {
      statusCode: 200,
      headers: {},
      vary: null,
      tags: ['tag'],
      policy: {} as never,
      deleteAt: Date.now() + 30_000,
      size: 0,
    },
  )!
  w.end(Buffer.from('x'))
  await new Promise((r) => w.on('finish', r))
  const pttl = await store.client.pttl(`${prefix}u:http://x/ttl`)
  assert.ok(pttl > 25_000 && pttl <= 30_000, String(pttl))
  const tagTtl = await store.client.pttl(`${prefix}t:tag`)
  assert.ok(tagTtl > 25_000 && tagTtl <= 30_000, String(tagTtl))
})

test('RedisStore refuses options without one connection, naming the bad one', () => {
  assert.throws(() => new RedisStore({}), /pass one of client/)
  assert.throws(
    () => new RedisStore({ url: 'redis://127.0.0.1:1', cluster: ['redis://127.0.0.1:1'] }),
    /pass one of client/,
  )
  assert.throws(() => new RedisStore({ sentinels: ['redis://127.0.0.1:1'] }), /name: the Sentinel group name/)
  assert.throws(
    () => new RedisStore({ cluster: ['http://127.0.0.1:1'] }),
    /cluster\[0\]: "http:\/\/127\.0\.0\.1:1" is not/,
  )
})
