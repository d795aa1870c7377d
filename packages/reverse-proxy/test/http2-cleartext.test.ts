import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startH2Proxy } from './http2-helpers.js'

// `Fastify({ http2: true })` without TLS speaks HTTP/2 with prior knowledge only (h2c): proxied
// requests work there too, with `http` as the forwarded proto.
test('a cleartext HTTP/2 server (prior knowledge) proxies requests', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startH2Proxy(t, { routes: [{ prefix: '/', upstreams: [origin.url] }] }, false)
  for (let i = 0; i < 2; i++) {
    const res = await curl(`${proxy.url}/plain?n=${i}`, ['--http2-prior-knowledge'])
    assert.equal(res.status, 200, res.body)
    assert.equal(res.version, '2')
    const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> }
    assert.equal(seen.url, `/plain?n=${i}`)
    assert.equal(seen.headers['x-forwarded-proto'], 'http')
    assert.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${proxy.port}`)
  }
  assert.deepEqual(proxy.versions, ['2.0', '2.0'])
})
