import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { test } from 'node:test'
import { SHAPES, setup, setupFor } from './helpers.js'

const ago = (s: number) => new Date(Date.now() - s * 1000).toUTCString()

/** An origin with one ETag that answers If-None-Match with 304 (and new headers on the 304). */
function validatingOrigin(etag: string, first: Record<string, string>, on304: Record<string, string>) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, ...on304 })
      res.end()
      return
    }
    res.writeHead(200, { etag, 'content-type': 'text/plain', ...first })
    res.end('body v1')
  }
}

for (const shape of SHAPES) {
  test(`a stale entry is revalidated with If-None-Match; the 304 updates stored headers and it is fresh again (${shape})`, async (t) => {
    const s = await setupFor(shape)(
      t,
      validatingOrigin(
        '"v1"',
        { 'cache-control': 'max-age=60', date: ago(100), 'x-version': 'old' },
        {
          'cache-control': 'max-age=60',
          'x-version': 'new',
        },
      ),
    )
    const a = await s.get('/r')
    assert.equal(a.body, 'body v1')
    const b = await s.get('/r')
    assert.equal(s.origin.hits, 2)
    assert.equal(s.origin.requests[1]!.headers['if-none-match'], '"v1"')
    assert.equal(b.status, 200, 'the client gets the stored body, not the 304')
    assert.equal(b.body, 'body v1')
    assert.equal(b.headers['x-version'], 'new')
    assert.match(b.headers['cache-status']!, /fwd=stale; fwd-status=304; stored/)
    const c = await s.get('/r')
    assert.equal(s.origin.hits, 2, 'fresh again after the 304')
    assert.equal(c.headers['x-version'], 'new')
    assert.equal(s.app.proxyCache.metrics().revalidated, 1)
  })
}

test('If-Modified-Since is used when there is only Last-Modified', async (t) => {
  const lm = ago(5000)
  const s = await setup(t, (req, res) => {
    if (req.headers['if-modified-since'] === lm) {
      res.writeHead(304, { 'last-modified': lm, 'cache-control': 'max-age=60' })
      res.end()
      return
    }
    res.writeHead(200, { 'last-modified': lm, 'cache-control': 'max-age=0' })
    res.end('lm body')
  })
  await s.get('/r')
  const b = await s.get('/r')
  assert.equal(s.origin.requests[1]!.headers['if-modified-since'], lm)
  assert.equal(b.body, 'lm body')
  assert.equal(b.status, 200)
})

for (const shape of SHAPES) {
  test(`a 200 to the revalidation replaces the stored entry (${shape})`, async (t) => {
    let version = 1
    const s = await setupFor(shape)(t, (_req, res) => {
      res.writeHead(200, { etag: `"v${version}"`, 'cache-control': 'max-age=0' })
      res.end(`version ${version}`)
    })
    await s.get('/r')
    version = 2
    const b = await s.get('/r')
    assert.equal(b.body, 'version 2')
    assert.match(b.headers['cache-status']!, /fwd=stale; fwd-status=200; stored/)
  })
}

test('no-cache responses are stored but validated on every use', async (t) => {
  const s = await setup(t, validatingOrigin('"nc"', { 'cache-control': 'no-cache' }, {}))
  await s.get('/r')
  const b = await s.get('/r')
  const c = await s.get('/r')
  assert.equal(s.origin.hits, 3)
  assert.equal(b.body, 'body v1')
  assert.equal(c.body, 'body v1')
  assert.equal(s.origin.requests[2]!.headers['if-none-match'], '"nc"')
})

test('qualified no-cache="field" is validated on every use too, never served fresh', async (t) => {
  const s = await setup(
    t,
    validatingOrigin('"q"', { 'cache-control': 'max-age=60, no-cache="x-secret"', 'x-secret': 's' }, {}),
  )
  await s.get('/r')
  const b = await s.get('/r')
  assert.equal(s.origin.hits, 2)
  assert.equal(b.body, 'body v1')
  assert.equal(s.origin.requests[1]!.headers['if-none-match'], '"q"')
})

test('a fresh must-revalidate response is a hit (only stale ones must be validated)', async (t) => {
  const s = await setup(t, validatingOrigin('"m"', { 'cache-control': 'max-age=60, must-revalidate' }, {}))
  await s.get('/r')
  await s.get('/r')
  assert.equal(s.origin.hits, 1)
})

test('proxy-revalidate does not make a fresh response stale in a shared cache', async (t) => {
  const s = await setup(t, validatingOrigin('"p"', { 'cache-control': 'max-age=60, proxy-revalidate' }, {}))
  await s.get('/r')
  await s.get('/r')
  assert.equal(s.origin.hits, 1)
})

test("a client's conditional request is answered 304 from a fresh entry", async (t) => {
  const lm = ago(3600)
  const s = await setup(
    t,
    validatingOrigin('"c"', { 'cache-control': 'max-age=60', 'last-modified': lm }, {}),
  )
  await s.get('/r')
  const a = await s.get('/r', { 'if-none-match': '"c"' })
  assert.equal(a.status, 304)
  assert.equal(a.body, '')
  assert.equal(a.headers.etag, '"c"')
  assert.match(a.headers['cache-status']!, /hit/)
  const b = await s.get('/r', { 'if-none-match': 'W/"c", "other"' })
  assert.equal(b.status, 304, 'weak comparison')
  const c = await s.get('/r', { 'if-none-match': '"other"' })
  assert.equal(c.status, 200)
  const d = await s.get('/r', { 'if-modified-since': new Date().toUTCString() })
  assert.equal(d.status, 304)
  const e = await s.get('/r', { 'if-modified-since': ago(7200) })
  assert.equal(e.status, 200)
  assert.equal(s.origin.hits, 1)
})

test("a client's own conditional on a stale entry goes upstream and its 304 is passed back", async (t) => {
  const s = await setup(
    t,
    validatingOrigin('"z"', { 'cache-control': 'max-age=0' }, { 'cache-control': 'max-age=60' }),
  )
  await s.get('/r')
  const b = await s.get('/r', { 'if-none-match': '"z"' })
  assert.equal(b.status, 304)
  assert.equal(s.origin.hits, 2)
  // The 304 matched the stored validator, so it refreshed the entry too.
  await s.get('/r')
  assert.equal(s.origin.hits, 2)
})
