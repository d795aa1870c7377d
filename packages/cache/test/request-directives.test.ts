import assert from 'node:assert/strict'
import { test } from 'node:test'
import { respond, setup } from './helpers.js'

const ago = (s: number) => new Date(Date.now() - s * 1000).toUTCString()

test('request no-cache revalidates a fresh entry (fwd=request)', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60', etag: '"e"' }))
  await s.get('/r')
  const b = await s.get('/r', { 'cache-control': 'no-cache' })
  assert.equal(s.origin.hits, 2)
  assert.match(b.headers['cache-status']!, /fwd=request/)
})

test('Pragma: no-cache acts as no-cache only without Cache-Control', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60' }))
  await s.get('/r')
  await s.get('/r', { pragma: 'no-cache' })
  assert.equal(s.origin.hits, 2)
  await s.get('/r', { pragma: 'no-cache', 'cache-control': 'max-stale' })
  assert.equal(s.origin.hits, 2, 'Cache-Control present: Pragma ignored')
})

test('request max-age refuses an entry older than it', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=600', age: '100' }))
  await s.get('/r')
  await s.get('/r', { 'cache-control': 'max-age=200' })
  assert.equal(s.origin.hits, 1)
  await s.get('/r', { 'cache-control': 'max-age=50' })
  assert.equal(s.origin.hits, 2)
})

test('request min-fresh refuses an entry with less freshness left', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=100' }))
  await s.get('/r')
  await s.get('/r', { 'cache-control': 'min-fresh=50' })
  assert.equal(s.origin.hits, 1)
  await s.get('/r', { 'cache-control': 'min-fresh=200' })
  assert.equal(s.origin.hits, 2)
})

test('request max-stale accepts a stale entry within the limit', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60', date: ago(100), etag: '"s"' }))
  await s.get('/r')
  const b = await s.get('/r', { 'cache-control': 'max-stale=120' })
  assert.equal(s.origin.hits, 1)
  assert.match(b.headers['cache-status']!, /hit; ttl=-\d+; detail=stale-ok/)
  await s.get('/r', { 'cache-control': 'max-stale=10' })
  assert.equal(s.origin.hits, 2)
})

test('must-revalidate refuses max-stale', async (t) => {
  const s = await setup(
    t,
    respond({ 'cache-control': 'max-age=60, must-revalidate', date: ago(100), etag: '"s"' }),
  )
  await s.get('/r')
  await s.get('/r', { 'cache-control': 'max-stale' })
  assert.equal(s.origin.hits, 2)
})

test('only-if-cached answers 504 when nothing is stored, and from the store when something is', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60' }))
  const a = await s.get('/r', { 'cache-control': 'only-if-cached' })
  assert.equal(a.status, 504)
  assert.match(a.headers['cache-status']!, /detail=only-if-cached/)
  assert.equal(s.origin.hits, 0)
  await s.get('/r')
  const c = await s.get('/r', { 'cache-control': 'only-if-cached' })
  assert.equal(c.status, 200)
  assert.equal(s.origin.hits, 1)
})
