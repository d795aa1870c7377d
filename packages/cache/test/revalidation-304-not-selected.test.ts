// RFC 9111 §4.3.3/§4.3.4: the origin's 304 to the cache's own revalidation that does not carry the stored
// validator (none at all, or another ETag) selects no stored response and updates nothing; the client,
// which never sent a conditional request, gets the stored 200, never a bare 304.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SHAPES, setupFor } from './helpers.js'

const variants: Array<[string, Record<string, string>]> = [
  ['no validator', {}],
  ['another strong ETag', { etag: '"v2"' }],
  ['another weak ETag', { etag: 'W/"v2"' }],
]

for (const shape of SHAPES)
  for (const [what, validator] of variants)
    test(`a 304 with ${what} gives the client the stored 200, unchanged (${shape})`, async (t) => {
      const s = await setupFor(shape)(t, (req, res) => {
        if (req.headers['if-none-match'] !== undefined) {
          res.writeHead(304, { ...validator, 'cache-control': 'max-age=600', 'x-version': 'new' })
          res.end()
          return
        }
        res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=0', 'x-version': 'old' })
        res.end('body v1')
      })
      await s.get('/r')
      const b = await s.get('/r')
      assert.equal(s.origin.requests[1]!.headers['if-none-match'], '"v1"')
      assert.equal(b.status, 200)
      assert.equal(b.body, 'body v1')
      assert.equal(b.headers['x-version'], 'old', 'the 304 updated nothing')
      assert.match(b.headers['cache-status']!, /fwd=stale; fwd-status=304; ttl=-?\d+; detail=not-selected$/)
      // Not refreshed by that 304: the next request validates again.
      const c = await s.get('/r')
      assert.equal(s.origin.hits, 3)
      assert.equal(c.status, 200)
      assert.equal(c.body, 'body v1')
      assert.equal(s.app.proxyCache.metrics().revalidated, 0)
    })

test("a client's own conditional request still gets the origin's 304", async (t) => {
  const s = await setupFor('relay')(t, (req, res) => {
    if (req.headers['if-none-match'] !== undefined) {
      res.writeHead(304, { etag: '"v2"' })
      res.end()
      return
    }
    res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=0' })
    res.end('body v1')
  })
  await s.get('/r')
  const b = await s.get('/r', { 'if-none-match': '"v2"' })
  assert.equal(b.status, 304)
})
