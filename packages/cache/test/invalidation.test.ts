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

test('Location and Content-Location of the same origin are invalidated', async (t) => {
  const s = await setup(
    t,
    origin(() => ({ location: '/a', 'content-location': '/b' })),
  )
  await s.get('/a')
  await s.get('/b')
  await s.get('/other')
  assert.equal(s.origin.hits, 3)
  // Location resolves against the request URL (the cache's own host): same origin.
  await s.get('/item', {}, 'POST')
  await s.get('/a')
  await s.get('/b')
  assert.equal(s.origin.hits, 6, '/a and /b refetched')
  await s.get('/other')
  assert.equal(s.origin.hits, 6, '/other untouched')
})

// The other origin's entry is really stored (keyed on its Host), so only the same-origin check keeps a
// response from one origin from purging it.
for (const header of ['location', 'content-location']) {
  test(`a cross-origin ${header} does not invalidate the other origin's stored entry; a same-origin one does`, async (t) => {
    let target = ''
    const s = await setup(
      t,
      origin(() => ({ [header]: target })),
    )
    const other = { host: 'other.example' }
    await s.get('/b', other)
    const hit = await s.get('/b', other)
    assert.match(hit.headers['cache-status']!, /hit/)
    assert.equal(s.origin.hits, 1)
    // An unsafe request to the cache's own origin names the other origin's URL.
    target = 'http://other.example/b'
    const p = await s.get('/item', {}, 'POST')
    assert.equal(p.headers[header], target)
    assert.match((await s.get('/b', other)).headers['cache-status']!, /hit/)
    assert.equal(s.origin.hits, 2, 'http://other.example/b untouched')
    // The same URL named by an unsafe request to that origin (relative, so resolved against it).
    target = '/b'
    await s.get('/item', other, 'POST')
    const after = await s.get('/b', other)
    assert.match(after.headers['cache-status']!, /fwd=uri-miss/)
    assert.equal(s.origin.hits, 4, 'http://other.example/b refetched')
  })
}

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
