import assert from 'node:assert/strict'
import { test } from 'node:test'
import { respond, setup } from './helpers.js'

// RFC 9111 §3.5: a response to a request with Authorization is stored by a shared cache only when it says
// public, s-maxage or must-revalidate; and such a stored response answers other authenticated requests
// only then.
for (const [cc, stored] of [
  ['max-age=60', false],
  ['public, max-age=60', true],
  ['s-maxage=60', true],
  ['must-revalidate, max-age=60', true],
] as const) {
  test(`Authorization with "${cc}" → ${stored ? 'stored' : 'not stored'}`, async (t) => {
    const s = await setup(t, respond({ 'cache-control': cc }))
    await s.get('/r', { authorization: 'Bearer a' })
    const b = await s.get('/r', { authorization: 'Bearer a' })
    assert.equal(s.origin.hits, stored ? 1 : 2)
    assert.equal(b.body, 'hello')
  })
}

test('an entry stored from an anonymous request without public does not answer an authenticated one', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60' }))
  await s.get('/r')
  assert.equal(s.origin.hits, 1)
  const b = await s.get('/r', { authorization: 'Bearer a' })
  assert.equal(s.origin.hits, 2)
  assert.match(b.headers['cache-status']!, /fwd=miss.*detail=authorization/)
  await s.get('/r')
  assert.equal(s.origin.hits, 2, 'the anonymous entry still answers anonymous requests')
})
