// Issue 24: the local tier of a RedisStore on a Redis Cluster when the primary holding its invalidation
// subscription is killed. A cluster client's own subscriber moves to another node silently (what was
// published meanwhile is lost), so the tier must be dropped, trusted again only once the subscription
// carries messages, and invalidations must reach it afterwards. The entry under test lives on that primary
// too, so its writes and reads come back only through the promoted replica.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { finished } from 'node:stream/promises'
import { test } from 'node:test'
import { startRedisCluster } from '@proxykit/core/testing'
import type { Cluster } from 'ioredis'
import { RedisStore } from '../src/stores/redis.js'
import { cachedResponse } from './entries.js'

/** Retries `what` until it holds; a step that throws (a slot whose primary is down) counts as not yet. */
let state: (() => unknown) | undefined

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    const ok = await Promise.resolve()
      .then(check)
      .catch(() => false)
    if (ok) return
    if (Date.now() > end) assert.fail(`${what} within ${timeoutMs} ms (${JSON.stringify(state?.())})`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A URL whose entry key (`<prefix>u:<url>`) lives in a slot that `node` (`host:port`) serves. */
async function urlOn(client: Cluster, prefix: string, node: string | null): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const url = `http://x/kept-${i}`
    const slot = Number(await client.cluster('KEYSLOT', `${prefix}u:${url}`))
    if (client.slots[slot]?.[0] === node) return url
  }
  assert.fail(`no URL found on ${node}`)
}

test('the primary holding the subscription fails over: the tier is dropped, then hears invalidations again', async (t) => {
  const cluster = await startRedisCluster()
  t.after(() => cluster.stop())
  const prefix = `test:${randomUUID()}:`
  const [a, b] = [0, 1].map(() => new RedisStore({ cluster: [cluster.urls[0]!], prefix, local: 1 << 20 }))
  for (const s of [a!, b!]) {
    t.after(() => s.close())
    await s.ready(30_000)
    await until('subscribed', () => s.localTier?.trusted === true)
  }
  const [one, two] = [a!, b!]
  state = () => ({ tier: two.localTier, stats: two.localStats })
  const node = two.localTier!.node
  // The entry lives on the primary that is killed too, so that its writes and reads wait out the
  // failover: they come back only once the replica is promoted.
  const url = await urlOn(one.client as Cluster, prefix, node)
  const put = async (body: string) => {
    const w = one.createWriteStream(
      { url, headers: {} },
      cachedResponse({ deleteAt: Date.now() + 600_000 }, { lifetime: 600 }),
    )
    assert.ok(w)
    w.end(Buffer.from(body))
    await finished(w)
  }
  const get = async () => (await two.get({ url, headers: {} }))?.body.toString()
  /** Reads until the copy is held locally: a read served from the tier counts a local hit. */
  const heldLocally = () =>
    until('a local copy', async () => {
      const hits = two.localStats.hits
      await get()
      return two.localStats.hits > hits
    })

  await put('v1')
  await heldLocally()
  assert.equal(two.localTier!.node, node)
  const victim = cluster.nodes.find((n) => `127.0.0.1:${n.port}` === node)
  assert.ok(victim, `the subscription's node ${node} is one of the cluster's`)
  assert.ok(
    (await cluster.primaries()).includes(victim),
    'the subscription is on a primary (so killing it is a failover)',
  )
  const drops = two.localStats.drops
  await victim.kill()
  t.diagnostic(`before the kill: ${JSON.stringify(two.localTier)} ${JSON.stringify(two.localStats)}`)
  await until('the tier dropped', () => two.localStats.drops > drops && two.localTier!.count === 0)
  await until('subscribed again on another node', () => two.localTier!.trusted)
  assert.notEqual(two.localTier!.node, node)

  // Invalidations reach the tier again: a new value written through the other instance replaces the copy.
  await until('the cluster serving every slot again', async () => {
    await put('v2')
    return true
  })
  await until('v2 read', async () => (await get()) === 'v2')
  await heldLocally()
  await until('the replacement written', async () => {
    await put('v3')
    return true
  })
  await until('the copy replaced', async () => (await get()) === 'v3')
})
