import { test } from 'node:test'
import { startRedisCluster } from '@proxykit/core/testing'
import { twoInstancesShareRedis } from './helpers/shared-redis.js'

test('two instances on a Redis Cluster share hits, tag purges, collapsed misses and one rate limit', async (t) => {
  const cluster = await startRedisCluster()
  t.after(() => cluster.stop())
  // One node named: the others are discovered.
  await twoInstancesShareRedis(t, { cluster: [cluster.urls[1]] })
})
