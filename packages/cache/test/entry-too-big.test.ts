import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashStream, patternStream } from '@proxykit/core/testing'
import { Agent, request } from 'undici'
import { SHAPES, setupFor } from './helpers.js'

// An entry that outgrows the store's entry limit is abandoned while it streams: the client still gets
// every byte, intact, and the next request goes upstream again.
for (const shape of SHAPES) {
  test(`a body larger than maxEntrySize reaches the client whole and is not stored (${shape})`, async (t) => {
    const size = 3 * 1024 * 1024 + 17
    let digest = ''
    const s = await setupFor(shape)(
      t,
      (_req, res) => {
        res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': size })
        const body = patternStream(size)
        body.on('end', () => {
          digest = body.digest()
        })
        body.pipe(res)
      },
      { maxEntrySize: 1024 * 1024, maxSize: 8 * 1024 * 1024 },
    )
    const client = new Agent()
    t.after(() => client.close())
    for (let i = 1; i <= 2; i++) {
      const res = await request(`${s.url}/big`, { dispatcher: client })
      assert.match(String(res.headers['cache-status']), /fwd=uri-miss; fwd-status=200; stored/)
      const got = await hashStream(res.body)
      assert.equal(got.bytes, size)
      assert.equal(got.sha256, digest)
      assert.equal(s.origin.hits, i)
    }
    assert.equal(s.app.cache.metrics().stores, 0)
  })
}
