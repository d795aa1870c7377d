import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setup } from './helpers.js'

test('Vary: one variant per selecting header value; fwd=vary-miss for a new one', async (t) => {
  const s = await setup(t, (req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'Accept-Language' })
    res.end(`lang=${req.headers['accept-language'] ?? 'none'}`)
  })
  const en = await s.get('/r', { 'accept-language': 'en' })
  assert.match(en.headers['cache-status']!, /fwd=uri-miss/)
  const fr = await s.get('/r', { 'accept-language': 'fr' })
  assert.match(fr.headers['cache-status']!, /fwd=vary-miss/)
  const none = await s.get('/r')
  assert.equal(none.body, 'lang=none')
  assert.equal(s.origin.hits, 3)
  assert.equal((await s.get('/r', { 'accept-language': 'en' })).body, 'lang=en')
  assert.equal((await s.get('/r', { 'accept-language': 'fr' })).body, 'lang=fr')
  assert.equal((await s.get('/r')).body, 'lang=none')
  assert.equal(s.origin.hits, 3)
})

test('Vary on several headers', async (t) => {
  const s = await setup(t, (req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'accept-encoding, x-tenant' })
    res.end(`${req.headers['accept-encoding']}/${req.headers['x-tenant']}`)
  })
  await s.get('/r', { 'accept-encoding': 'gzip', 'x-tenant': 'a' })
  await s.get('/r', { 'accept-encoding': 'gzip', 'x-tenant': 'b' })
  const a = await s.get('/r', { 'accept-encoding': 'gzip', 'x-tenant': 'a' })
  assert.equal(a.body, 'gzip/a')
  assert.equal(s.origin.hits, 2)
})
