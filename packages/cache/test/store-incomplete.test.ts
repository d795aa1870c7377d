import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SHAPES, setupFor } from './helpers.js'

// RFC 9111 §3.3: an incomplete response is not stored as complete. The origin announces 1000 bytes and
// closes after 10; the client's response is cut short and nothing is stored.
for (const shape of SHAPES) {
  test(`a body that ends early is not stored (${shape})`, async (t) => {
    const s = await setupFor(shape)(t, (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': '1000' })
      res.write('0123456789')
      setTimeout(() => res.destroy(), 20)
    })
    await assert.rejects(s.get('/r'))
    await assert.rejects(s.get('/r'))
    assert.equal(s.origin.hits, 2, 'the second request went upstream again')
    assert.equal(s.app.proxyCache.metrics().stores, 0)
  })
}

for (const shape of SHAPES) {
  test(`a chunked body cut off mid-stream is not stored (${shape})`, async (t) => {
    const s = await setupFor(shape)(t, (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60' })
      res.write('partial')
      setTimeout(() => res.socket?.destroy(), 20)
    })
    await assert.rejects(s.get('/r'))
    await assert.rejects(s.get('/r'))
    assert.equal(s.origin.hits, 2)
    assert.equal(s.app.proxyCache.metrics().stores, 0)
  })
}
