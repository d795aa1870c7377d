import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './helpers.js'

// Issue 26 item 10: a purge says how many entries went, so "nothing matched" is visible.
test('purge resolves with the number of entries removed: variants of a URL, URLs of a tag, 0 for none', async (t) => {
  const s = await setup(t, (req, res) => {
    const tags = req.url!.startsWith('/product') ? 'products' : 'home'
    res.writeHead(200, { 'cache-control': 'max-age=600', vary: 'accept-language', 'cache-tag': tags })
    res.end(String(req.headers['accept-language']))
  })
  await s.get('/product/1', { 'accept-language': 'en' })
  await s.get('/product/1', { 'accept-language': 'de' })
  await s.get('/product/2', { 'accept-language': 'en' })
  await s.get('/home', { 'accept-language': 'en' })
  assert.equal(await s.app.proxyCache.purge({ url: `${s.url}/product/1` }), 2, 'both variants')
  assert.equal(await s.app.proxyCache.purge({ url: `${s.url}/product/1` }), 0, 'nothing left to purge')
  assert.equal(await s.app.proxyCache.purge({ url: `${s.url}/never-stored` }), 0)
  assert.equal(await s.app.proxyCache.purge({ tag: 'products' }), 1)
  assert.equal(await s.app.proxyCache.purge({ tag: 'no-such-tag' }), 0)
  assert.equal(await s.app.proxyCache.purge({ tag: 'home' }), 1)
})
