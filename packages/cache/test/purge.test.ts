import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './helpers.js'

test('purge({ url }) removes every variant of one URL', async (t) => {
  const s = await setup(t, (req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=600', vary: 'accept-language' })
    res.end(String(req.headers['accept-language']))
  })
  await s.get('/p?q=1', { 'accept-language': 'en' })
  await s.get('/p?q=1', { 'accept-language': 'de' })
  await s.get('/other')
  assert.equal(s.origin.hits, 3)
  await s.app.proxyCache.purge({ url: `${s.url}/p?q=1` })
  await s.get('/p?q=1', { 'accept-language': 'en' })
  await s.get('/p?q=1', { 'accept-language': 'de' })
  await s.get('/other')
  assert.equal(s.origin.hits, 5)
})

test('purge({ tag }) removes every URL stored with the tag (Cache-Tag by default)', async (t) => {
  const s = await setup(t, (req, res) => {
    const tags = req.url!.startsWith('/product') ? 'products, catalog' : 'home'
    res.writeHead(200, { 'cache-control': 'max-age=600', 'cache-tag': tags })
    res.end(req.url)
  })
  await s.get('/product/1')
  await s.get('/product/2')
  await s.get('/home')
  assert.equal(s.origin.hits, 3)
  await s.app.proxyCache.purge({ tag: 'products' })
  await s.get('/product/1')
  await s.get('/product/2')
  await s.get('/home')
  assert.equal(s.origin.hits, 5)
})

test('tagHeader is configurable', async (t) => {
  const s = await setup(
    t,
    (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600', 'surrogate-key': 'a b' })
      res.end('x')
    },
    { tagHeader: 'Surrogate-Key' },
  )
  await s.get('/x')
  await s.app.proxyCache.purge({ tag: 'a b' })
  await s.get('/x')
  assert.equal(s.origin.hits, 2)
})

test('purge refuses what is neither { url } nor { tag }', async (t) => {
  const s = await setup(t, () => {})
  await assert.rejects(s.app.proxyCache.purge({} as never), /purge takes \{ url \} or \{ tag \}/)
  await assert.rejects(s.app.proxyCache.purge({ url: 'not a url' }), /absolute URL/)
})
