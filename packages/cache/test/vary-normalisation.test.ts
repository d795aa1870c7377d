// RFC 9111 §4.1: selecting header values match after the normalisations RFC 9110 makes meaningless —
// and only those (README, "The cache key"). Through a real origin whose hit count says hit or miss, then
// the comparison itself, case by case.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { selectingValue } from '../src/store.js'
import { setup } from './helpers.js'

test('Accept-Encoding in another order and spacing selects the stored variant; another set does not', async (t) => {
  const s = await setup(t, (req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'Accept-Encoding' })
    res.end(`ae=${req.headers['accept-encoding']}`)
  })
  await s.get('/r', { 'accept-encoding': 'gzip, br' })
  const b = await s.get('/r', { 'accept-encoding': 'br,gzip' })
  assert.equal(b.body, 'ae=gzip, br')
  assert.match(b.headers['cache-status']!, /hit/)
  await s.get('/r', { 'accept-encoding': ' BR ;Q=1.0 , , gzip' })
  assert.equal(s.origin.hits, 1)
  await s.get('/r', { 'accept-encoding': 'gzip' })
  await s.get('/r', { 'accept-encoding': 'gzip, br;q=0.5' })
  assert.equal(s.origin.hits, 3)
})

test('Accept-Language keeps its order (a preference); its spacing and case do not matter', async (t) => {
  const s = await setup(t, (req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'accept-language' })
    res.end(`al=${req.headers['accept-language']}`)
  })
  await s.get('/r', { 'accept-language': 'en-US, fr;q=0.8' })
  await s.get('/r', { 'accept-language': 'en-us,fr ; q=0.80' })
  assert.equal(s.origin.hits, 1)
  const other = await s.get('/r', { 'accept-language': 'fr;q=0.8, en-US' })
  assert.equal(other.body, 'al=fr;q=0.8, en-US')
  assert.equal(s.origin.hits, 2)
})

test('the normalisation, field by field', () => {
  const same = (name: string, a: string | string[], b: string | string[]) =>
    assert.equal(selectingValue({ [name]: a }, name), selectingValue({ [name]: b }, name), `${a} | ${b}`)
  const differ = (name: string, a: string, b: string) =>
    assert.notEqual(selectingValue({ [name]: a }, name), selectingValue({ [name]: b }, name), `${a} | ${b}`)
  same('accept-encoding', 'gzip, deflate, br', 'br,deflate,gzip')
  same('accept-encoding', ['gzip', 'br'], 'br, gzip')
  same('accept-encoding', 'gzip;q=1, br;q=0.500', 'br;q=0.5,GZIP')
  differ('accept-encoding', 'gzip, br', 'gzip')
  differ('accept-encoding', 'gzip;q=0.5, br', 'br;q=0.5, gzip')
  differ('accept-encoding', 'gzip, br', 'gzip, br, identity;q=0')
  same('accept', 'text/html, application/json;q=0.9', 'TEXT/HTML ,application/json ; Q=0.90')
  same('accept', 'text/html;level=1', 'text/html; LEVEL=1')
  differ('accept', 'text/html, application/json', 'application/json, text/html')
  differ('accept', 'text/plain;format=Flowed', 'text/plain;format=flowed')
  same('accept', 'a/b;p="x, Y", c/d', 'a/b; p="x, Y",c/d')
  differ('accept', 'a/b;p="x, Y"', 'a/b;p="x,Y"')
  same('accept-language', 'en-GB, en;q=0.5', 'EN-gb,en;q=0.5')
  differ('accept-language', 'en, fr', 'fr, en')
  // Not a content-negotiation list: compared as sent (field lines joined, trimmed).
  differ('user-agent', 'a ,b', 'a, b')
  differ('x-tenant', 'A', 'a')
  same('x-tenant', '  a ', 'a')
  assert.equal(selectingValue({}, 'accept-encoding'), null)
  assert.notEqual(selectingValue({ 'accept-encoding': '' }, 'accept-encoding'), null, 'empty is not absent')
})
