import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startH2Proxy } from './http2-helpers.js'

// An HTTP/2 request has no Host: its authority is `:authority` (RFC 9113 §8.3.1). It is what the proxy
// passes on as X-Forwarded-Host, as Host when the route preserves it, and what a rewritten Location
// names, exactly as an HTTP/1.1 client's Host would be.
test('an HTTP/2 client’s :authority is its Host: preserveHost, X-Forwarded-Host, Location', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: `http://127.0.0.1:${origin.port}/next`, 'content-length': '0' })
        res.end()
        return
      }
      const body = JSON.stringify(req.headers)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    },
  })
  t.after(() => origin.close())
  const proxy = await startH2Proxy(t, {
    routes: [{ prefix: '/', upstreams: [origin.url], preserveHost: true }],
  })

  for (const flag of ['--http2', '--http1.1']) {
    // curl sends the Host given here as `:authority` over HTTP/2.
    const res = await curl(`${proxy.url}/who`, [flag, '-H', 'Host: app.test:8443'])
    assert.equal(res.status, 200, `${flag}: ${res.body}`)
    assert.equal(res.version, flag === '--http2' ? '2' : '1.1')
    const headers = JSON.parse(res.body) as Record<string, string>
    assert.equal(headers.host, 'app.test:8443', flag)
    assert.equal(headers['x-forwarded-host'], 'app.test:8443', flag)
    assert.match(headers.forwarded!, /host="app\.test:8443";proto=https/)

    const moved = await curl(`${proxy.url}/moved`, [flag, '-H', 'Host: app.test:8443'])
    assert.equal(moved.status, 302)
    assert.equal(moved.headers.location, 'https://app.test:8443/next', flag)
  }
})
