import assert from 'node:assert/strict'
import { test } from 'node:test'
import { respond, setup, sleep } from './helpers.js'

const ttlOf = (status: string) => Number(/; ttl=(-?\d+)/.exec(status)![1])

// A hot entry's head (Age, Cache-Status) is built once per second and reused between (hit.ts, #hitHead):
// the reuse must never hold a second's values past that second.
test('Age and ttl on hits follow the clock, also for a head reused within the second', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60' }, 'body'))
  await s.get('/aged')
  const a = await s.get('/aged')
  const b = await s.get('/aged')
  assert.match(a.headers['cache-status']!, /^proxykit; hit; ttl=\d+$/)
  assert.ok(Number(b.headers.age) - Number(a.headers.age) <= 1)
  await sleep(2100)
  const c = await s.get('/aged')
  assert.equal(c.body, 'body')
  assert.equal(s.origin.hits, 1)
  assert.ok(Number(c.headers.age) >= Number(a.headers.age) + 2, `age ${a.headers.age} then ${c.headers.age}`)
  assert.ok(ttlOf(c.headers['cache-status']!) <= ttlOf(a.headers['cache-status']!) - 2)
  // Age is rounded down and ttl to the nearest second: together they make max-age, or one less.
  const sum = Number(c.headers.age) + ttlOf(c.headers['cache-status']!)
  assert.ok(sum === 59 || sum === 60, `age + ttl = ${sum}`)
})

test('a stale hit after fresh ones says so in Cache-Status', async (t) => {
  // max-age=3: Date has whole seconds, so the entry arrives up to a second old (apparent age), and a
  // loaded machine takes a while between two requests; with max-age=1 the "fresh" hit was sometimes stale.
  const s = await setup(t, respond({ 'cache-control': 'max-age=3, stale-while-revalidate=30' }, 'body'))
  await s.get('/swr')
  const fresh = await s.get('/swr')
  assert.doesNotMatch(fresh.headers['cache-status']!, /detail=/)
  await sleep(3600)
  const stale = await s.get('/swr')
  assert.match(stale.headers['cache-status']!, /^proxykit; hit; ttl=-\d+; detail=stale-revalidate$/)
})
