import { test } from 'node:test'
import { redisForTests } from '@proxykit/core/testing'
import { twoInstancesOneAcmeOrder } from './helpers/acme-shared.js'

// reverse.tls.acme with `redis`: two instances, one redis-server, one Pebble. Exactly one of them orders
// (the lock), the other answers the CA's HTTP-01 check from Redis and loads the stored certificate, both
// serve the same one, and a restart with an empty storage directory reuses it without ordering.

test('ACME with redis: one order for two instances, the same certificate on both, reused after a restart', async (t) => {
  const redis = await redisForTests()
  if (redis === null) return t.skip('no redis-server here')
  t.after(() => redis.stop())
  await twoInstancesOneAcmeOrder(t, { url: redis.url })
})
