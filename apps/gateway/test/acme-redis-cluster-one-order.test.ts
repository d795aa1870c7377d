import { test } from 'node:test'
import { startRedisCluster } from '@proxykit/core/testing'
import { twoInstancesOneAcmeOrder } from './helpers/acme-shared.js'

// The same as acme-redis-one-order on a Redis Cluster: the lock and the certificate of one order share a
// hash tag (one slot), so the script that stores the certificate only while holding the lock runs there.

test('ACME with a Redis Cluster: one order for two instances, the same certificate on both, reused after a restart', async (t) => {
  const cluster = await startRedisCluster()
  t.after(() => cluster.stop())
  await twoInstancesOneAcmeOrder(t, { cluster: [cluster.urls[0]] })
})
