// RFC 9111 §5.1: an Age sent as a list (`Age: 7200, 0`, or on two field lines) is read by its first
// member, as the public HTTP caching test suite expects; an invalid Age is ignored. Each response has
// `max-age=3600` and an ETag (so it is stored either way): whether the second request reaches the origin
// says whether the first member was taken.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { respond, SHAPES, setupFor } from './helpers.js'

const cases: Array<[string, string | string[], 'fresh' | 'stale']> = [
  ['a list, the stale value first', '7200, 0', 'stale'],
  ['a list, the fresh value first', '0, 7200', 'fresh'],
  ['two field lines, the stale one first', ['7200', '0'], 'stale'],
  ['two field lines, the fresh one first', ['0', '7200'], 'fresh'],
  ['an invalid first member (ignored)', 'soon, 7200', 'fresh'],
  ['a negative value (ignored)', '-7200', 'fresh'],
]

for (const shape of SHAPES)
  for (const [what, age, expected] of cases)
    test(`Age: ${what} is ${expected} (${shape})`, async (t) => {
      const s = await setupFor(shape)(t, respond({ 'cache-control': 'max-age=3600', etag: '"a"', age }))
      await s.get('/r')
      const b = await s.get('/r')
      assert.equal(s.origin.hits, expected === 'fresh' ? 1 : 2, b.headers['cache-status'])
    })
