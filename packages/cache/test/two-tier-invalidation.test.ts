// Issue 24 item 3: RedisStore's local tier. A read through Redis fills it and the next read is served
// from it; a delete, a tag purge or a new write through another instance reaches it through pub/sub;
// a lost subscription drops it; a local copy never outlives its entry's freshness.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { finished } from 'node:stream/promises'
import { type TestContext, test } from 'node:test'
import { redisForTests } from '@proxykit/core/testing'
import type { CachedResponse } from '../src/index.js'
import { RedisStore } from '../src/stores/redis.js'
import { cachedResponse } from './entries.js'

const redis = await redisForTests()
test.after(async () => redis?.stop())

async function put(store: RedisStore, url: string, value: CachedResponse, body: string) {
  const w = store.createWriteStream({ url, headers: {} }, value)
  assert.ok(w)
  w.end(Buffer.from(body))
  await finished(w)
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`${what} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Two instances' stores on one prefix, each with a 1 MiB local tier, subscribed. */
async function pair(t: TestContext): Promise<[RedisStore, RedisStore]> {
  const prefix = `test:${randomUUID()}:`
  const stores = [0, 1].map(() => new RedisStore({ url: redis!.url, prefix, local: 1024 * 1024 }))
  for (const s of stores) {
    t.after(() => s.close())
    await s.ready()
    await until('subscribed', () => s.localTier?.trusted === true)
  }
  return stores as [RedisStore, RedisStore]
}

const get = async (s: RedisStore, url: string) => (await s.get({ url, headers: {} }))?.body.toString()
/**
 * Reads `urls` until each is held locally. A read from Redis fills the tier as its copy's stream finishes,
 * and not at all when an invalidation overtook the read (the write that stored it announces itself).
 */
const filled = (s: RedisStore, ...urls: string[]) =>
  until('local copies stored', async () => {
    for (const u of urls) await get(s, u)
    return (s.localTier?.count ?? 0) >= urls.length
  })

test('a read fills the local tier; delete, tag purge and a new write elsewhere reach it', {
  skip: redis === null,
}, async (t) => {
  const [a, b] = await pair(t)
  const url = 'http://x/page'
  await put(a, url, cachedResponse({ tags: ['group'] }), 'v1')
  assert.equal(await get(b, url), 'v1')
  assert.equal(b.localStats.hits, 0, 'the first read went to Redis')
  await filled(b, url)
  const before = b.localStats.hits
  assert.equal(await get(b, url), 'v1')
  assert.equal(b.localStats.hits, before + 1, 'then from the local tier')

  // A new write through a (a revalidation's replacement): b's local copy goes.
  await put(a, url, cachedResponse({ tags: ['group'] }), 'v2')
  await until('b sees v2', async () => (await get(b, url)) === 'v2')

  // A delete through a.
  await filled(b, url)
  const hits = b.localStats.hits
  assert.equal(await get(b, url), 'v2')
  assert.equal(b.localStats.hits, hits + 1, 'held locally again')
  const purged = Date.now()
  await a.delete({ url })
  await until('b forgets the URL', async () => (await get(b, url)) === undefined)
  t.diagnostic(`delete reached the other local tier in ${Date.now() - purged} ms`)

  // A tag purge through a.
  const other = 'http://x/other'
  await put(a, url, cachedResponse({ tags: ['group'] }), 'v3')
  await put(a, other, cachedResponse({ tags: ['group'] }), 'o')
  await until('b reads both', async () => (await get(b, url)) === 'v3' && (await get(b, other)) === 'o')
  await filled(b, url, other)
  await a.deleteTag('group')
  await until(
    'b forgets the tagged URLs',
    async () => (await get(b, url)) === undefined && (await get(b, other)) === undefined,
  )
})

test('a local copy lives no longer than its entry is fresh', { skip: redis === null }, async (t) => {
  const [a, b] = await pair(t)
  const url = 'http://x/short'
  // Fresh for 5 s (room for a loaded machine to fill the copy), kept in Redis for 60 s (to revalidate
  // or serve stale).
  const value = cachedResponse({}, { lifetime: 5 })
  await put(a, url, value, 'short')
  assert.equal(await get(b, url), 'short')
  await filled(b, url)
  const hits = b.localStats.hits
  assert.equal(await get(b, url), 'short')
  assert.equal(b.localStats.hits, hits + 1)
  await new Promise((r) => setTimeout(r, value.policy.responseTime + 5000 + 50 - Date.now()))
  assert.equal(await get(b, url), 'short', 'still in Redis')
  assert.equal(b.localStats.hits, hits + 1, 'not from the local tier once stale')
})

test('a lost subscription drops the local tier until it is back', { skip: redis === null }, async (t) => {
  const [a, b] = await pair(t)
  const url = 'http://x/kept'
  await put(a, url, cachedResponse(), 'kept')
  await get(b, url)
  await filled(b, url)
  // Redis closes every subscribed connection (as a restart or a network cut would). The tier goes
  // whether or not the connection says so: without a 'close', the missing heartbeats tell.
  await a.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await until('dropped', () => b.localTier?.count === 0 && b.localStats.drops >= 1)
  await until('subscribed again', () => b.localTier?.trusted === true)
  const hits = b.localStats.hits
  assert.equal(await get(b, url), 'kept')
  assert.equal(b.localStats.hits, hits, 'read from Redis, not from a tier that missed invalidations')
})
