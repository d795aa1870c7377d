import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './helpers.js'

// RFC 9111 §4.4: a successful unsafe request invalidates the target URI and the same-origin Location and
// Content-Location URIs.
function origin(postHeaders: (port: number) => Record<string, string>, postStatus = 200) {
  let port = 0
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    port = req.socket.localPort ?? 0
    if (req.method !== 'GET') {
      res.writeHead(postStatus, postHeaders(port))
      res.end('done')
      return
    }
    res.writeHead(200, { 'cache-control': 'max-age=600' })
    res.end(`got ${req.url}`)
  }
  return handler
}

for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
  test(`a successful ${method} invalidates the target URI`, async (t) => {
    const s = await setup(
      t,
      origin(() => ({})),
    )
    await s.get('/item')
    await s.get('/item')
    assert.equal(s.origin.hits, 1)
    const p = await s.get('/item', {}, method)
    assert.match(p.headers['cache-status']!, /fwd=bypass; fwd-status=200; detail=method/)
    await s.get('/item')
    assert.equal(s.origin.hits, 3)
  })
}

test('an unsuccessful POST invalidates nothing', async (t) => {
  const s = await setup(
    t,
    origin(() => ({}), 500),
  )
  await s.get('/item')
  await s.get('/item', {}, 'POST')
  await s.get('/item')
  assert.equal(s.origin.hits, 2)
})

test('Location and Content-Location of the same origin are invalidated; other origins are not', async (t) => {
  const s = await setup(
    t,
    origin(() => ({ location: '/a', 'content-location': 'http://127.0.0.1:1/b' })),
  )
  await s.get('/a')
  await s.get('/other')
  // Location resolves against the request URL (the cache's own host): same origin.
  const host = new URL(s.url).host
  void host
  await s.get('/item', {}, 'POST')
  await s.get('/a')
  assert.equal(s.origin.hits, 4, '/a refetched')
  await s.get('/other')
  assert.equal(s.origin.hits, 4, '/other untouched')
})

test('a same-origin absolute Content-Location is invalidated', async (t) => {
  let self = ''
  const s = await setup(t, (req, res) => {
    if (req.method === 'POST') {
      res.writeHead(201, { 'content-location': `${self}/c` })
      res.end()
      return
    }
    res.writeHead(200, { 'cache-control': 'max-age=600' })
    res.end('x')
  })
  self = s.url
  await s.get('/c')
  await s.get('/new', {}, 'POST')
  await s.get('/c')
  assert.equal(s.origin.hits, 3)
})
