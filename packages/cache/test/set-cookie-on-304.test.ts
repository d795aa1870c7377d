// A 304 that refreshes a stored response may carry Set-Cookie (a session renewed on revalidation). Not
// shared by default (shareSetCookie: false): the cookie goes to the client whose request was validated,
// the refreshed entry stays without it, and later hits carry none. It used to be lost: the merged head
// carried Set-Cookie, so it was "not storable", the entry was dropped and the client got the old head.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SHAPES, setupFor } from './helpers.js'

const origin = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
  if (req.headers['if-none-match'] === '"v1"') {
    res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=60', 'set-cookie': 'sid=renewed; HttpOnly' })
    res.end()
    return
  }
  res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=0', 'content-type': 'text/plain' })
  res.end('body v1')
}

for (const shape of SHAPES) {
  test(`a 304's Set-Cookie reaches the client it was for, and is not stored (${shape})`, async (t) => {
    const s = await setupFor(shape)(t, origin)
    await s.get('/r')
    const b = await s.get('/r')
    assert.equal(b.status, 200)
    assert.equal(b.body, 'body v1')
    assert.equal(b.headers['set-cookie'], 'sid=renewed; HttpOnly')
    assert.match(b.headers['cache-status']!, /fwd=stale; fwd-status=304; stored/)
    const c = await s.get('/r')
    assert.equal(s.origin.hits, 2, 'refreshed by the 304')
    assert.equal(c.headers['set-cookie'], undefined, 'nobody else gets the cookie')
  })
}

test("shareSetCookie: true stores the 304's Set-Cookie with the entry", async (t) => {
  const s = await setupFor('relay')(t, origin, { shareSetCookie: true })
  await s.get('/r')
  const b = await s.get('/r')
  assert.equal(b.headers['set-cookie'], 'sid=renewed; HttpOnly')
  const c = await s.get('/r')
  assert.equal(s.origin.hits, 2)
  assert.equal(c.headers['set-cookie'], 'sid=renewed; HttpOnly')
})
