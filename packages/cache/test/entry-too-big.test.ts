import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashStream, patternStream } from '@proxykit/core/testing'
import { Agent, request } from 'undici'
import { SHAPES, setup, setupFor } from './helpers.js'

// An entry larger than the store's entry limit. When Content-Length already says so, the store is not
// asked at all and Cache-Status does not say `stored` (detail=too-big). Without a Content-Length it is
// abandoned while it streams: the head (saying `stored`) is out by then (README, "Weak points"). Either
// way the client gets every byte, intact, and the next request goes upstream again.
const SIZE = 3 * 1024 * 1024 + 17
const LIMITS = { maxEntrySize: 1024 * 1024, maxSize: 8 * 1024 * 1024 }

for (const shape of SHAPES) {
  for (const framing of ['content-length', 'chunked'] as const) {
    test(`a body larger than maxEntrySize (${framing}) reaches the client whole and is not stored (${shape})`, async (t) => {
      let digest = ''
      const s = await setupFor(shape)(
        t,
        (_req, res) => {
          res.writeHead(
            200,
            framing === 'content-length'
              ? { 'cache-control': 'max-age=60', 'content-length': SIZE }
              : { 'cache-control': 'max-age=60' },
          )
          const body = patternStream(SIZE)
          body.on('end', () => {
            digest = body.digest()
          })
          body.pipe(res)
        },
        LIMITS,
      )
      const client = new Agent()
      t.after(() => client.close())
      for (let i = 1; i <= 2; i++) {
        const res = await request(`${s.url}/big`, { dispatcher: client })
        const status = String(res.headers['cache-status'])
        // The body first: a failed assertion must not leave the response hanging.
        const got = await hashStream(res.body)
        if (framing === 'content-length') {
          assert.match(status, /fwd=uri-miss; fwd-status=200; detail=too-big$/)
          assert.doesNotMatch(status, /stored/)
        } else assert.match(status, /fwd=uri-miss; fwd-status=200; stored/, 'known weak point')
        assert.equal(got.bytes, SIZE)
        assert.equal(got.sha256, digest)
        assert.equal(s.origin.hits, i)
      }
      assert.equal(s.app.proxyCache.metrics().stores, 0)
    })
  }
}

test('a plain route answering a Buffer larger than maxEntrySize does not say stored', async (t) => {
  const big = Buffer.alloc(SIZE, 'x')
  let calls = 0
  const s = await setup(
    t,
    () => {},
    LIMITS,
    (app) => {
      app.get('/big', async (_req, reply) => {
        calls++
        reply.header('cache-control', 'max-age=60')
        return big
      })
    },
  )
  for (let i = 1; i <= 2; i++) {
    const res = await s.get('/big')
    assert.match(res.headers['cache-status']!, /fwd=uri-miss; fwd-status=200; detail=too-big$/)
    assert.equal(res.body.length, SIZE)
    assert.equal(calls, i)
  }
  assert.equal(s.app.proxyCache.metrics().stores, 0)
})
