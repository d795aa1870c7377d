// Issue 24 item 2: a primary of a Redis Cluster SIGKILLed under load through two gateway instances costs
// no client request an error; the gateway picks up the promoted replica by itself.
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { startRedisCluster } from '@proxykit/core/testing'
import { failoverUnderLoad } from './helpers/redis-failover.js'

const cli = (port: number, ...args: string[]) =>
  new Promise<string>((resolve) =>
    execFile('redis-cli', ['-p', String(port), ...args], { timeout: 5000 }, (err, out) =>
      resolve(err ? '' : String(out).trim()),
    ),
  )

test('a cluster primary killed under load: no failed request, hits come back from the promoted replica', async (t) => {
  const cluster = await startRedisCluster()
  t.after(() => cluster.stop())
  /** The primary that serves `key`'s slot, as a live node reports it (null while the slot is uncovered). */
  const primaryFor = async (key: string) => {
    const slot = Number(await cli(cluster.nodes[0]!.port, 'cluster', 'keyslot', key))
    for (const n of cluster.nodes) {
      if (n.process.exitCode !== null || n.process.signalCode !== null) continue
      for (const line of (await cli(n.port, 'cluster', 'nodes')).split('\n')) {
        const f = line.split(' ')
        if (!/master/.test(f[2] ?? '') || /fail/.test(f[2] ?? '')) continue
        const port = Number(f[1]?.split('@')[0]?.split(':')[1])
        for (const range of f.slice(8)) {
          const [lo, hi = lo] = range.split('-').map(Number)
          if (slot >= lo! && slot <= hi!) return cluster.nodes.find((x) => x.port === port) ?? null
        }
      }
      return null
    }
    return null
  }
  await failoverUnderLoad(t, {
    redis: { cluster: [cluster.urls[0]] },
    primaryFor,
    async killPrimary(key) {
      const node = await primaryFor(key)
      if (node === null) throw new Error('no primary for the key')
      await node.kill()
      return node.port
    },
  })
})
