import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { selfSignedCertificate, startOrigin } from '@proxykit/core/testing'
import { Agent, request } from 'undici'
import { curl, startH2Proxy } from './http2-helpers.js'

const run = promisify(execFile)

// Fastify({ http2: true, https: { allowHTTP1: true } }): HTTP/2 clients get the proxied answer as HTTP/1.1
// clients do, and the upstream gets an ordinary HTTP/1.1 request from either: no pseudo-header
// (`:method`, `:path`, `:authority`, `:scheme`) among its fields, its own Host, the client's authority
// in X-Forwarded-Host.
test('HTTP/2 and HTTP/1.1 clients of an HTTP/2 server get proxied answers (curl, undici, h2load)', async (t) => {
  // Clients are closed before the server (hooks run in order): an open HTTP/2 session would hold
  // app.close() until Fastify's http2SessionTimeout.
  const { cert } = await selfSignedCertificate()
  const agent = new Agent({ allowH2: true, connect: { ca: cert } })
  t.after(() => agent.close())
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startH2Proxy(t, {
    routes: [{ prefix: '/api', rewritePrefix: '/api', upstreams: [origin.url] }],
  })

  for (const flag of ['--http2', '--http1.1']) {
    const res = await curl(`${proxy.url}/api/users?page=2`, [flag])
    assert.equal(res.status, 200, `${flag}: ${res.body}`)
    assert.equal(res.version, flag === '--http2' ? '2' : '1.1')
    const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> }
    assert.equal(seen.url, '/api/users?page=2')
    assert.deepEqual(
      Object.keys(seen.headers).filter((n) => n.startsWith(':')),
      [],
      'no pseudo-header upstream',
    )
    assert.equal(seen.headers.host, `127.0.0.1:${origin.port}`)
    assert.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${proxy.port}`)
    assert.equal(seen.headers['x-forwarded-proto'], 'https')
  }

  const res = await request(`${proxy.url}/api/undici`, { dispatcher: agent })
  assert.equal(res.statusCode, 200)
  assert.equal(((await res.body.json()) as { url: string }).url, '/api/undici')
  assert.deepEqual(proxy.versions, ['2.0', '1.1', '2.0'])

  // 200 requests on 2 connections, 10 streams each at a time: every one answered 2xx.
  const { stdout } = await run('h2load', ['-n', '200', '-c', '2', '-m', '10', `${proxy.url}/api/load`], {
    timeout: 60_000,
  })
  assert.match(stdout, /requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed, 0 errored/)
  assert.match(stdout, /status codes: 200 2xx, 0 3xx, 0 4xx, 0 5xx/)
  assert.equal(origin.hits, 203)
})
