import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest, startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { client, startProxy } from './helpers.js'

test('an upstream dying mid-body gives the client a cleanly aborted response, not a hang', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      const chunked = req.url === '/chunked'
      res.writeHead(200, chunked ? {} : { 'content-length': String(1024 * 1024) })
      res.write(Buffer.alloc(64 * 1024, 97))
      setTimeout(() => res.socket?.destroy(), 50)
    },
  })
  t.after(() => origin.close())
  const proxy = await startProxy(t, { routes: [{ name: 'app', upstreams: [origin.url] }] })
  const agent = client(t)
  for (const path of ['/length', '/chunked']) {
    const started = performance.now()
    const res = await request(`${proxy.url}${path}`, { dispatcher: agent })
    assert.equal(res.statusCode, 200)
    await assert.rejects(res.body.arrayBuffer(), `${path}: the body fails instead of looking complete`)
    assert.ok(performance.now() - started < 5000, 'no hang')
  }
  const status = proxy.app.reverseProxy.upstreams('app')[0]!
  assert.ok(
    status.failures >= 2,
    `a body cut by the upstream counts against it (${status.failures} failures)`,
  )
  // As raw bytes: a chunked response is never terminated with the final 0-chunk.
  const raw = await rawRequest(proxy.port, 'GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 3000 })
  assert.equal(raw.statusCode, 200)
  assert.ok(!raw.raw.toString('latin1').endsWith('0\r\n\r\n'))
})
