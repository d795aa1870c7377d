// Issue 23 item 7, end to end: `/admin%00/x` does not match a `deny: [/admin]` rule (the rule sees one
// segment `admin%00`), so it used to reach the origin. Core now refuses it with 400 before any rule.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import reverseProxy from '@proxykit/reverse-proxy'
import Fastify from 'fastify'
import { request } from 'undici'
import accessControl from '../src/index.js'

test('behind the reverse proxy, an encoded NUL or CR/LF in the path is a 400 and never reaches the origin', async (t) => {
  const origin = await startOrigin()
  const app = Fastify()
  await app.register(accessControl, {
    rules: [{ name: 'no-admin', action: 'deny', paths: ['/admin'] }],
    defaultAction: 'allow',
  })
  await app.register(reverseProxy, { routes: [{ name: 'site', prefix: '/', upstreams: [origin.url] }] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => Promise.all([app.close(), origin.close()]))
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  for (const path of ['/admin%00/x', '/admin%00', '/admin%0d%0a/x', '/admin%7f']) {
    const res = await request(`${base}${path}`)
    const body = await res.body.text()
    assert.equal(res.statusCode, 400, path)
    assert.match(body, /encoded control character in path/)
  }
  assert.equal(origin.hits, 0)
  const ok = await request(`${base}/public`)
  await ok.body.text()
  assert.equal(ok.statusCode, 200)
  assert.equal(origin.hits, 1)
})
