// RFC 9111 §5.3: an Expires that is not an HTTP-date (IMF-fixdate, RFC 850 or asctime: RFC 9110 §5.6.7)
// means "already expired", however far in the future another reading of it would put it; and a two-digit
// RFC 850 year is read by the 50-year rule, not as 19xx. Each response has an ETag, so it is stored
// either way and the origin's hit count says whether it was fresh.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { respond, setup } from './helpers.js'

for (const expires of [
  '2099-01-01T00:00:00Z',
  'Thu, 01 Jan 2099 00:00:00 +0000',
  'Thu, 01 Jan 2099 00:00:00 UTC',
  'Thu Jan 01 2099 00:00:00 GMT+0000',
  'thu, 01 jan 2099 00:00:00 gmt',
  'Tue, 31 Feb 2099 00:00:00 GMT',
])
  test(`Expires: ${expires} is already expired`, async (t) => {
    const s = await setup(t, respond({ expires, etag: '"e"' }))
    const a = await s.get('/r')
    assert.match(a.headers['cache-status']!, /stored; ttl=(0|-1)$/, 'stored for revalidation, stale')
    await s.get('/r')
    assert.equal(s.origin.hits, 2)
  })

test('the obsolete forms of a future Expires are fresh', async (t) => {
  for (const expires of ['Thursday, 01-Jan-60 00:00:00 GMT', 'Thu Jan  1 00:00:00 2099']) {
    const s = await setup(t, respond({ expires, etag: '"e"' }))
    await s.get('/r')
    await s.get('/r')
    assert.equal(s.origin.hits, 1, expires)
  }
})
