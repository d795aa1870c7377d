import assert from 'node:assert/strict'
import { test } from 'node:test'
import { respond, setup } from './helpers.js'

const handler = respond({
  'cache-control': 'public, max-age=60',
  'set-cookie': ['sid=secret; HttpOnly', 'b=2'],
})

test('responses with Set-Cookie are not shared by default', async (t) => {
  const s = await setup(t, handler)
  const a = await s.get('/r')
  await s.get('/r')
  assert.equal(s.origin.hits, 2)
  assert.match(a.headers['cache-status']!, /detail=set-cookie/)
})

test('shareSetCookie: true stores them, cookies included', async (t) => {
  const s = await setup(t, handler, { shareSetCookie: true })
  await s.get('/r')
  const b = await s.get('/r')
  assert.equal(s.origin.hits, 1)
  assert.equal(b.headers['set-cookie'], 'sid=secret; HttpOnly, b=2')
})
