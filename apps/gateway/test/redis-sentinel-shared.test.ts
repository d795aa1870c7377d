import { test } from 'node:test'
import { startRedisSentinel } from '@proxykit/core/testing'
import { twoInstancesShareRedis } from './helpers/shared-redis.js'

test('two instances through Redis Sentinel share hits, tag purges, collapsed misses and one rate limit', async (t) => {
  const group = await startRedisSentinel()
  t.after(() => group.stop())
  await twoInstancesShareRedis(t, { sentinels: group.sentinelUrls, name: group.name })
})
