import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SHAPES, setup, setupFor, sleep } from './helpers.js'

const ago = (s: number) => new Date(Date.now() - s * 1000).toUTCString()

test('stale-while-revalidate serves the stale entry at once and refreshes it in the background', async (t) => {
  let version = 1
  const s = await setup(t, (_req, res) => {
    res.writeHead(200, {
      'cache-control': 'max-age=60, stale-while-revalidate=600',
      date: version === 1 ? ago(100) : new Date().toUTCString(),
    })
    res.end(`v${version}`)
  })
  await s.get('/r')
  version = 2
  const b = await s.get('/r')
  assert.equal(b.body, 'v1', 'served stale')
  assert.match(b.headers['cache-status']!, /hit; ttl=-\d+; detail=stale-revalidate/)
  for (let i = 0; i < 50 && s.origin.hits < 2; i++) await sleep(50)
  assert.equal(s.origin.hits, 2, 'one background request')
  for (let i = 0; i < 50 && s.app.proxyCache.metrics().stores < 2; i++) await sleep(50)
  const c = await s.get('/r')
  assert.equal(c.body, 'v2')
  assert.match(c.headers['cache-status']!, /; hit; ttl=\d+$/)
  assert.equal(s.origin.hits, 2)
})

test('beyond the stale-while-revalidate window the request waits for the origin', async (t) => {
  const s = await setup(t, (_req, res) => {
    res.writeHead(200, {
      'cache-control': 'max-age=60, stale-while-revalidate=10',
      date: ago(100),
      etag: '"w"',
    })
    res.end('x')
  })
  await s.get('/r')
  const b = await s.get('/r')
  assert.match(b.headers['cache-status']!, /fwd=stale/)
  assert.equal(s.origin.hits, 2)
})

for (const shape of SHAPES) {
  test(`stale-if-error serves the stale entry when the origin answers 5xx (${shape})`, async (t) => {
    let fail = false
    const s = await setupFor(shape)(t, (_req, res) => {
      if (fail) {
        res.writeHead(503, { 'content-type': 'text/plain' })
        res.end('down')
        return
      }
      res.writeHead(200, { 'cache-control': 'max-age=60, stale-if-error=600', date: ago(100), etag: '"e"' })
      res.end('good')
    })
    await s.get('/r')
    fail = true
    const b = await s.get('/r')
    assert.equal(s.origin.hits, 2)
    assert.equal(b.status, 200)
    assert.equal(b.body, 'good')
    assert.match(b.headers['cache-status']!, /detail=stale-if-error; fwd=stale; fwd-status=503/)
  })
}

test('without stale-if-error the 5xx goes to the client', async (t) => {
  let fail = false
  const s = await setup(t, (_req, res) => {
    if (fail) {
      res.writeHead(503)
      res.end('down')
      return
    }
    res.writeHead(200, { 'cache-control': 'max-age=60', date: ago(100), etag: '"e"' })
    res.end('good')
  })
  await s.get('/r')
  fail = true
  const b = await s.get('/r')
  assert.equal(b.status, 503)
})

for (const shape of SHAPES) {
  test(`request stale-if-error also allows it (${shape})`, async (t) => {
    let fail = false
    const s = await setupFor(shape)(t, (_req, res) => {
      if (fail) {
        res.writeHead(500)
        res.end('down')
        return
      }
      res.writeHead(200, { 'cache-control': 'max-age=60', date: ago(100), etag: '"e"' })
      res.end('good')
    })
    await s.get('/r')
    fail = true
    const b = await s.get('/r', { 'cache-control': 'stale-if-error=600' })
    assert.equal(b.status, 200)
    assert.equal(b.body, 'good')
  })
}

for (const shape of SHAPES) {
  test(`stale-if-error also covers an unreachable origin (the proxy answers 502 through the filters) (${shape})`, async (t) => {
    const s = await setupFor(shape)(t, (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60, stale-if-error=600', date: ago(100), etag: '"u"' })
      res.end('kept')
    })
    await s.get('/r')
    await s.origin.close()
    const b = await s.get('/r')
    assert.equal(b.status, 200)
    assert.equal(b.body, 'kept')
    assert.match(b.headers['cache-status']!, /detail=stale-if-error; fwd=stale; fwd-status=502/)
    const c = await s.get('/never-stored')
    assert.equal(c.status, 502)
    assert.match(c.headers['cache-status']!, /fwd=uri-miss; fwd-status=502/)
  })
}
