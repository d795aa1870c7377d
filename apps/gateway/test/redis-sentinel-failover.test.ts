// Issue 24 item 2: the primary of a Sentinel group SIGKILLed under load through two gateway instances
// costs no client request an error; the gateway follows the sentinels to the promoted replica by itself.
import { test } from 'node:test'
import { startRedisSentinel } from '@proxykit/core/testing'
import { failoverUnderLoad } from './helpers/redis-failover.js'

test('a Sentinel primary killed under load: no failed request, hits come back from the promoted replica', async (t) => {
  const group = await startRedisSentinel()
  t.after(() => group.stop())
  await failoverUnderLoad(t, {
    redis: { sentinels: group.sentinelUrls, name: group.name },
    async primaryFor() {
      const node = await group.primary()
      return node.process.exitCode === null && node.process.signalCode === null ? node : null
    },
    async killPrimary() {
      const node = await group.primary()
      await node.kill()
      return node.port
    },
  })
})
