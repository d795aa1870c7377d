import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { startRedisSentinel } from '@proxykit/core/testing'
import { RedisStore } from '../src/stores/redis.js'
import { storeConformance } from './store-conformance.js'

// One Sentinel group (a primary, two replicas, three sentinels) for the file.
const group = await startRedisSentinel()
test.after(() => group.stop())

storeConformance(
  'RedisStore through Redis Sentinel',
  async (t) => {
    const store = new RedisStore({
      sentinels: group.sentinelUrls,
      name: group.name,
      prefix: `test:${randomUUID()}:`,
      maxEntrySize: 1024 * 1024,
    })
    t.after(() => store.close())
    await store.ready(20_000)
    return store
  },
  1024 * 1024,
)
