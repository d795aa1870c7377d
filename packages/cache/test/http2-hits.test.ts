import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { selfSignedCertificate, startOrigin } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import { Agent, request } from 'undici'
import { cache } from '../src/index.js'
import { addTestProxy } from './helpers.js'

const run = promisify(execFile)

async function curl(url: string, args: string[]) {
  const { stdout } = await run('curl', ['-sk', '--max-time', '10', '-D', '-', ...args, url])
  const end = stdout.indexOf('\r\n\r\n')
  const head = stdout.slice(0, end).toLowerCase()
  return {
    status: Number(head.split(' ')[1]),
    cacheStatus: /\ncache-status: ([^\r\n]*)/.exec(head)?.[1] ?? '',
    body: stdout.slice(end + 4),
  }
}

// An HTTP/2 request has no Host, only `:authority` (RFC 9113 §8.3.1): the key is built from it, so one
// entry serves HTTP/2 and HTTP/1.1 clients alike (the same URL), for an app route and a proxied one.
test('cache hits for HTTP/2 and HTTP/1.1 clients of one HTTP/2 server share one entry', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      res.writeHead(200, { 'cache-control': 'public, max-age=60', etag: '"p"', 'content-length': '7' })
      res.end(req.url === '/proxied' ? 'proxied' : 'unknown')
    },
  })
  t.after(() => origin.close())
  const { key, cert } = await selfSignedCertificate()
  // Closed before the server (hooks run in order): an open HTTP/2 session would hold app.close() until
  // Fastify's http2SessionTimeout.
  const agent = new Agent({ allowH2: true, connect: { ca: cert } })
  t.after(() => agent.close())
  const app = Fastify({ http2: true, https: { allowHTTP1: true, key, cert } }) as unknown as FastifyInstance
  await app.register(cache)
  let runs = 0
  app.get('/own', (_request, reply) => {
    runs++
    reply.header('cache-control', 'public, max-age=60').header('etag', '"o"').send('own')
  })
  addTestProxy(app, origin.url, '/proxied')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const base = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  for (const [path, body, etag] of [
    ['/own', 'own', '"o"'],
    ['/proxied', 'proxied', '"p"'],
  ] as const) {
    const first = await request(base + path, { dispatcher: agent })
    assert.equal(await first.body.text(), body)
    assert.match(String(first.headers['cache-status']), /stored/, `${path} stored from HTTP/2`)
    const h2 = await curl(base + path, ['--http2'])
    assert.match(h2.cacheStatus, /; hit;/, `${path} over HTTP/2`)
    assert.equal(h2.body, body)
    const h1 = await curl(base + path, ['--http1.1'])
    assert.match(h1.cacheStatus, /; hit;/, `${path} over HTTP/1.1`)
    assert.equal(h1.body, body)
    const notModified = await curl(base + path, ['--http2', '-H', `if-none-match: ${etag}`])
    assert.equal(notModified.status, 304)
    assert.match(notModified.cacheStatus, /; hit;/)
  }
  assert.equal(runs, 1)
  assert.equal(origin.hits, 1)
})
