import assert from 'node:assert/strict'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { selfSignedCertificate } from '@proxykit/core/testing'
import Fastify from 'fastify'
import reverseProxy from '../src/index.js'

// Routes with `protocol: h2c` (cleartext, prior knowledge) and `protocol: h2` (TLS, ALPN h2) reach
// node:http2 servers: every request to an upstream rides its one kept session (health checks too), the
// balancer alternates between upstreams as over HTTP/1.1, and a request to an upstream that went away is
// retried on the other.

interface H2Upstream {
  name: string
  url: string
  sessions: number
  seen: Array<{ path: string; version: string }>
  stop(): Promise<void>
}

async function upstream(
  t: import('node:test').TestContext,
  name: string,
  tls?: { key: string; cert: string },
) {
  const server = tls === undefined ? http2.createServer() : http2.createSecureServer({ ...tls })
  const u: H2Upstream = {
    name,
    url: '',
    sessions: 0,
    seen: [],
    async stop() {
      for (const s of live) s.destroy()
      await new Promise((r) => server.close(r))
    },
  }
  const live = new Set<http2.ServerHttp2Session>()
  server.on('session', (s: http2.ServerHttp2Session) => {
    u.sessions++
    live.add(s)
    s.once('close', () => live.delete(s))
  })
  server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    u.seen.push({ path: req.url, version: req.httpVersion })
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(name)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  u.url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.after(() => (server.listening ? u.stop() : undefined))
  return u
}

test('h2 and h2c upstreams: one session each, balanced, health-checked and retried', async (t) => {
  const pems = await selfSignedCertificate()
  const a = await upstream(t, 'a')
  const b = await upstream(t, 'b')
  const c = await upstream(t, 'c', pems)
  const app = Fastify()
  await app.register(reverseProxy, {
    routes: [
      {
        prefix: '/',
        upstreams: [a.url, b.url],
        protocol: 'h2c',
        balancer: 'round-robin',
        healthCheck: { path: '/healthz', intervalMs: 200 },
      },
      { prefix: '/secure', upstreams: [c.url], protocol: 'h2', tls: { ca: pems.cert } },
    ],
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const get = async (path: string) => {
    const r = await fetch(base + path)
    return { status: r.status, body: await r.text() }
  }

  const answers: string[] = []
  for (let i = 0; i < 10; i++) {
    const r = await get(`/n/${i}`)
    assert.equal(r.status, 200)
    answers.push(r.body)
  }
  assert.deepEqual(
    answers.slice(1),
    answers.slice(0, -1).map((x) => (x === 'a' ? 'b' : 'a')),
    answers.join(),
  )
  for (let i = 0; i < 5; i++) assert.deepEqual(await get(`/secure/${i}`), { status: 200, body: 'c' })

  // The health checks arrive over HTTP/2 as well.
  const deadline = Date.now() + 20_000
  while (!a.seen.some((s) => s.path === '/healthz') || !b.seen.some((s) => s.path === '/healthz')) {
    assert.ok(Date.now() < deadline, 'no health check reached both upstreams within 20 s')
    await new Promise((r) => setTimeout(r, 50))
  }
  for (const u of [a, b, c]) {
    assert.ok(u.seen.length >= 5, `${u.name}: ${u.seen.length} requests`)
    assert.ok(
      u.seen.every((s) => s.version === '2.0'),
      `${u.name}: ${JSON.stringify(u.seen)}`,
    )
    assert.equal(u.sessions, 1, `${u.name}: every request on one session`)
  }

  // b goes away: its turn is retried on a, and nothing fails.
  await b.stop()
  for (let i = 0; i < 6; i++) assert.deepEqual(await get(`/after/${i}`), { status: 200, body: 'a' })
})
