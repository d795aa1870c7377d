import assert from 'node:assert/strict'
import { test } from 'node:test'
import { respond, setup } from './helpers.js'

// RFC 9111 §4.2. Staleness is produced with Date/Age in the past rather than by sleeping.
const ago = (s: number) => new Date(Date.now() - s * 1000).toUTCString()
const ttlOf = (status: string) => Number(/ttl=(-?\d+)/.exec(status)![1])

test('s-maxage wins over max-age for a shared cache', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=600, s-maxage=30' }))
  const a = await s.get('/r')
  assert.ok(Math.abs(ttlOf(a.headers['cache-status']!) - 30) <= 3)
  await s.get('/r')
  assert.equal(s.origin.hits, 1)
})

test('max-age wins over Expires', async (t) => {
  const s = await setup(
    t,
    respond({
      'cache-control': 'max-age=0',
      expires: new Date(Date.now() + 600_000).toUTCString(),
      etag: '"a"',
    }),
  )
  await s.get('/r')
  await s.get('/r')
  assert.equal(s.origin.hits, 2, 'max-age=0 made it stale despite Expires')
})

test('Expires counts from the response Date', async (t) => {
  const date = Date.now()
  const s = await setup(
    t,
    respond({ date: new Date(date).toUTCString(), expires: new Date(date + 120_000).toUTCString() }),
  )
  const a = await s.get('/r')
  assert.ok(Math.abs(ttlOf(a.headers['cache-status']!) - 120) <= 3, a.headers['cache-status'])
  await s.get('/r')
  assert.equal(s.origin.hits, 1)
})

test('Age from upstream counts against the lifetime and grows on hits', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60', age: '45' }))
  const a = await s.get('/r')
  assert.ok(Math.abs(ttlOf(a.headers['cache-status']!) - 15) <= 3, a.headers['cache-status'])
  const b = await s.get('/r')
  assert.ok(Number(b.headers.age) >= 45)
  assert.equal(s.origin.hits, 1)
})

test('an old Date makes the response older (apparent age)', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60', date: ago(50) }))
  const a = await s.get('/r')
  assert.ok(Math.abs(ttlOf(a.headers['cache-status']!) - 10) <= 3, a.headers['cache-status'])
  const b = await s.get('/r')
  assert.ok(Number(b.headers.age) >= 49)
  assert.equal(s.origin.hits, 1)
})

test('a response already older than its max-age is stale on arrival', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60', date: ago(120), etag: '"x"' }))
  await s.get('/r')
  const b = await s.get('/r')
  assert.equal(s.origin.hits, 2)
  assert.match(b.headers['cache-status']!, /fwd=stale/)
})

test('heuristic freshness: 10% of the time since Last-Modified by default', async (t) => {
  const s = await setup(t, respond({ date: new Date().toUTCString(), 'last-modified': ago(1000) }))
  const a = await s.get('/r')
  assert.ok(Math.abs(ttlOf(a.headers['cache-status']!) - 100) <= 3, a.headers['cache-status'])
  await s.get('/r')
  assert.equal(s.origin.hits, 1)
})

test('heuristicFraction is configurable', async (t) => {
  const s = await setup(t, respond({ date: new Date().toUTCString(), 'last-modified': ago(1000) }), {
    heuristicFraction: 0.5,
  })
  const a = await s.get('/r')
  assert.ok(Math.abs(ttlOf(a.headers['cache-status']!) - 500) <= 3, a.headers['cache-status'])
})

test('a response stored fresh becomes stale with time and is revalidated', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=3', etag: '"v"' }))
  await s.get('/r')
  await s.get('/r')
  assert.equal(s.origin.hits, 1)
  await new Promise((r) => setTimeout(r, 4200))
  const c = await s.get('/r')
  assert.equal(s.origin.hits, 2)
  assert.equal(s.origin.requests[1]!.headers['if-none-match'], '"v"')
  assert.match(c.headers['cache-status']!, /fwd=stale/)
})
