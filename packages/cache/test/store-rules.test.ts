import assert from 'node:assert/strict'
import { test } from 'node:test'
import { respond, setup } from './helpers.js'

// RFC 9111 §3: what a shared cache must not store. Each case: two requests, the origin's hit count says
// whether the second was answered from the store.
const cases: Array<{ name: string; headers: Record<string, string>; status?: number; stored: boolean }> = [
  { name: 'no-store', headers: { 'cache-control': 'no-store, max-age=60' }, stored: false },
  { name: 'private', headers: { 'cache-control': 'private, max-age=60' }, stored: false },
  { name: 'max-age', headers: { 'cache-control': 'max-age=60' }, stored: true },
  {
    name: 'Expires in the future',
    headers: { expires: new Date(Date.now() + 60_000).toUTCString() },
    stored: true,
  },
  { name: 'Expires: 0 (already expired, no validator)', headers: { expires: '0' }, stored: false },
  { name: 'no freshness, no validator', headers: {}, stored: false },
  { name: '302 without explicit freshness', headers: {}, status: 302, stored: false },
  { name: '302 with max-age', headers: { 'cache-control': 'max-age=60' }, status: 302, stored: true },
  { name: '404 with max-age', headers: { 'cache-control': 'max-age=60' }, status: 404, stored: true },
  // §3: any final status may be stored with explicit freshness, even one the cache has no rules for.
  { name: '201 with max-age', headers: { 'cache-control': 'max-age=60' }, status: 201, stored: true },
  { name: '418 with s-maxage', headers: { 'cache-control': 's-maxage=60' }, status: 418, stored: true },
  { name: '201 without explicit freshness', headers: {}, status: 201, stored: false },
  {
    name: 'must-understand with a status not understood is not stored',
    headers: { 'cache-control': 'must-understand, max-age=60' },
    status: 418,
    stored: false,
  },
  {
    name: '206 is never stored',
    headers: { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-4/10' },
    status: 206,
    stored: false,
  },
  { name: 'Vary: * never matches', headers: { 'cache-control': 'max-age=60', vary: '*' }, stored: false },
  {
    name: 'must-understand with an understood status ignores no-store',
    headers: { 'cache-control': 'must-understand, no-store, max-age=60' },
    stored: true,
  },
]

for (const c of cases) {
  test(`storing: ${c.name} → ${c.stored ? 'stored' : 'not stored'}`, async (t) => {
    const s = await setup(t, respond(c.headers, 'hello', c.status ?? 200))
    const a = await s.get('/r')
    const b = await s.get('/r')
    assert.equal(a.status, c.status ?? 200)
    assert.equal(b.body, 'hello')
    assert.equal(s.origin.hits, c.stored ? 1 : 2)
    assert.equal(/; stored/.test(a.headers['cache-status']!), c.stored, a.headers['cache-status'])
  })
}

test('request Cache-Control: no-store keeps the response out of the store', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60' }))
  await s.get('/r', { 'cache-control': 'no-store' })
  await s.get('/r')
  assert.equal(s.origin.hits, 2)
})
