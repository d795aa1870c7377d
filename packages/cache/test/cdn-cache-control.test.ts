// Targeted cache control (RFC 9213): with `targetedCacheControl`, the first configured field present with
// a valid Structured Field Dictionary value replaces Cache-Control and Expires for this cache; an invalid
// one is ignored; without the option nothing changes; `stripTargetedCacheControl` keeps the fields from
// every answer (miss, hit, refreshed) while the store keeps obeying them.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveOptions } from '../src/options.js'
import { respond, SHAPES, setupFor } from './helpers.js'

const CDN = { targetedCacheControl: 'CDN-Cache-Control' }

for (const shape of SHAPES) {
  const setup = setupFor(shape)

  test(`CDN-Cache-Control: max-age=60 is stored over Cache-Control: no-store, and passed on (${shape})`, async (t) => {
    const s = await setup(t, respond({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' }), CDN)
    const a = await s.get('/r')
    assert.match(a.headers['cache-status']!, /stored; ttl=(59|60)$/)
    const b = await s.get('/r')
    assert.equal(s.origin.hits, 1)
    assert.equal(b.headers['cache-control'], 'no-store', 'Cache-Control is for the caches downstream')
    assert.equal(b.headers['cdn-cache-control'], 'max-age=60')
  })

  test(`CDN-Cache-Control: no-store wins over Cache-Control: max-age (${shape})`, async (t) => {
    const s = await setup(
      t,
      respond({ 'cache-control': 'max-age=600', 'cdn-cache-control': 'no-store' }),
      CDN,
    )
    const a = await s.get('/r')
    assert.match(a.headers['cache-status']!, /detail=no-store/)
    await s.get('/r')
    assert.equal(s.origin.hits, 2)
  })

  test(`stripTargetedCacheControl: no answer carries it, the store still obeys it (${shape})`, async (t) => {
    const s = await setup(
      t,
      (req, res) => {
        if (req.headers['if-none-match'] === '"v"') {
          res.writeHead(304, { etag: '"v"', 'cdn-cache-control': 'max-age=60' })
          res.end()
          return
        }
        res.writeHead(200, { etag: '"v"', 'cache-control': 'max-age=600', 'cdn-cache-control': 'max-age=0' })
        res.end('body')
      },
      { ...CDN, stripTargetedCacheControl: true },
    )
    const a = await s.get('/r')
    assert.equal(a.headers['cdn-cache-control'], undefined, 'the miss')
    const b = await s.get('/r')
    assert.equal(s.origin.hits, 2, 'max-age=0 from CDN-Cache-Control, not 600')
    assert.equal(b.body, 'body')
    assert.equal(b.headers['cdn-cache-control'], undefined, 'the refreshed answer')
    const c = await s.get('/r')
    assert.equal(s.origin.hits, 2, 'the 304 made it fresh for 60 s')
    assert.match(c.headers['cache-status']!, /hit/)
    assert.equal(c.headers['cdn-cache-control'], undefined, 'the hit')
    assert.equal(c.headers['cache-control'], 'max-age=600')
  })
}

test('an invalid targeted field is ignored: Cache-Control applies', async (t) => {
  for (const cdn of ['Max-Age=60', 'max-age=60,,', 'max-age=sixty seconds', 'max-age=(60)', '']) {
    const s = await setupFor('relay')(
      t,
      respond({ 'cache-control': 'no-store', 'cdn-cache-control': cdn }),
      CDN,
    )
    await s.get('/r')
    await s.get('/r')
    assert.equal(s.origin.hits, 2, JSON.stringify(cdn))
  }
})

test('a targeted field in use replaces Expires too', async (t) => {
  const s = await setupFor('relay')(
    t,
    respond({
      expires: new Date(Date.now() + 600_000).toUTCString(),
      etag: '"e"',
      'cdn-cache-control': 'must-revalidate',
    }),
    CDN,
  )
  await s.get('/r')
  await s.get('/r')
  assert.equal(s.origin.hits, 2, 'no freshness from Expires')
})

test('the first configured field present wins; without the option CDN-Cache-Control means nothing', async (t) => {
  const headers = {
    'cache-control': 'no-store',
    'acme-cache-control': 'max-age=60',
    'cdn-cache-control': 'no-store',
  }
  const s = await setupFor('relay')(t, respond(headers), {
    targetedCacheControl: ['Acme-Cache-Control', 'CDN-Cache-Control'],
  })
  await s.get('/r')
  await s.get('/r')
  assert.equal(s.origin.hits, 1)
  const plain = await setupFor('relay')(
    t,
    respond({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' }),
  )
  await plain.get('/r')
  await plain.get('/r')
  assert.equal(plain.origin.hits, 2)
})

test('targetedCacheControl and stripTargetedCacheControl are validated', () => {
  assert.deepEqual(resolveOptions({ targetedCacheControl: 'CDN-Cache-Control' }).targeted, [
    'cdn-cache-control',
  ])
  assert.deepEqual(resolveOptions({}).targeted, [])
  for (const bad of ['', 'cdn cache control', [], ['Cache-Control'], 42, true])
    assert.throws(
      () => resolveOptions({ targetedCacheControl: bad as never }),
      /targetedCacheControl: must be/,
      JSON.stringify(bad),
    )
  assert.throws(
    () => resolveOptions({ stripTargetedCacheControl: 'yes' as never }),
    /stripTargetedCacheControl/,
  )
})
