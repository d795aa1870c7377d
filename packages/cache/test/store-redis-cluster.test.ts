import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { startRedisCluster } from '@proxykit/core/testing'
import { RedisStore } from '../src/stores/redis.js'
import { storeConformance } from './store-conformance.js'

// One cluster (3 primaries, 3 replicas) for the file: the whole store contract holds on it.
const cluster = await startRedisCluster()
test.after(() => cluster.stop())

storeConformance(
  'RedisStore on a Redis Cluster',
  async (t) => {
    const store = new RedisStore({
      cluster: cluster.urls.slice(0, 2),
      prefix: `test:${randomUUID()}:`,
      maxEntrySize: 1024 * 1024,
    })
    t.after(() => store.close())
    await store.ready(20_000)
    return store
  },
  1024 * 1024,
)

test('a tag purge on a cluster removes URLs whose keys live on different primaries', async (t) => {
  const store = new RedisStore({ cluster: [cluster.urls[0]!], prefix: `test:${randomUUID()}:` })
  t.after(() => store.close())
  await store.ready(20_000)
  const head = {
    statusCode: 200,
    headers: {},
    vary: null,
    tags: ['spread'],
    policy: {} as never,
    deleteAt: Date.now() + 60_000,
    size: 0,
  }
  const urls = Array.from({ length: 30 }, (_, i) => `http://x/${i}`)
  for (const url of urls) {
    const w = store.createWriteStream({ url, headers: {} }, head)!
    w.end(Buffer.from(url))
    await new Promise((r) => w.on('finish', r))
  }
  // The keys really are spread: more than one primary holds some.
  const client = store.client as import('ioredis').Cluster
  const holders = new Set<string>()
  for (const url of urls) {
    const slot = Number(await client.cluster('KEYSLOT', `${store.prefix}u:${url}`))
    const owner = client.slots[slot]?.[0]
    if (owner !== undefined) holders.add(owner)
  }
  assert.ok(holders.size > 1, `keys on ${holders.size} primary`)
  assert.equal(await store.deleteTag('spread'), urls.length)
  for (const url of urls) assert.equal(await store.get({ url, headers: {} }), undefined)
})
