import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest } from '@proxykit/core/testing'
import { setup, sleep } from './helpers.js'

// In front of a forward proxy: absolute-form requests are keyed on request.proxy.target.
test('absolute-form requests are cached on their target URL', async (t) => {
  let version = 1
  const s = await setup(t, (req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': String(req.url!.length + 3) })
    res.end(`v${version}:${req.url}`)
  })
  const port = Number(new URL(s.url).port)
  const target = `${s.origin.url}/fwd?a=1`
  const send = () =>
    rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${new URL(target).host}\r\nConnection: close\r\n\r\n`, {
      idleMs: 1000,
    })
  const a = await send()
  assert.equal(a.statusCode, 200)
  assert.match(a.headers['cache-status']!, /fwd=uri-miss.*stored/)
  version = 2
  const b = await send()
  assert.equal(b.body.toString(), 'v1:/fwd?a=1')
  assert.match(b.headers['cache-status']!, /hit/)
  assert.equal(s.origin.hits, 1)
  // The same URL asked in origin-form through the cache's own Host is another key.
  await s.get('/fwd?a=1')
  assert.equal(s.origin.hits, 2)
  await s.app.proxyCache.purge({ url: target })
  await send()
  assert.equal(s.origin.hits, 3)
})

test('stale-while-revalidate revalidates absolute-form requests in the background too', async (t) => {
  let version = 1
  const s = await setup(t, (_req, res) => {
    const date = version === 1 ? new Date(Date.now() - 100_000).toUTCString() : new Date().toUTCString()
    res.writeHead(200, { 'cache-control': 'max-age=60, stale-while-revalidate=600', date })
    res.end(`v${version}`)
  })
  const port = Number(new URL(s.url).port)
  const target = `${s.origin.url}/swr`
  const send = () =>
    rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { idleMs: 1000 })
  await send()
  version = 2
  const b = await send()
  assert.match(b.headers['cache-status']!, /stale-revalidate/)
  for (let i = 0; i < 50 && s.app.proxyCache.metrics().stores < 2; i++) await sleep(50)
  assert.equal(s.origin.hits, 2)
  assert.equal(s.origin.requests[1]!.url, '/swr')
  const c = await send()
  assert.equal(
    c.body.toString(),
    'v2',
    `${JSON.stringify(s.app.proxyCache.metrics())} ${c.headers['cache-status']}`,
  )
})
