// Issue 21 over HTTP/2: on Fastify({ http2: true, https: { allowHTTP1: true } }) the reverse proxy's
// Fastify answer path (chosen because @fastify/compress adds an onSend hook) reaches an HTTP/2 client
// gzip-encoded, and an upstream failure reaches the app's setErrorHandler as a 502, as over HTTP/1.1.
import assert from 'node:assert/strict'
import { connect, type IncomingHttpHeaders } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import compress from '@fastify/compress'
import { selfSignedCertificate, startOrigin } from '@proxykit/core/testing'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import reverseProxy from '../src/index.js'

const BODY = JSON.stringify({ items: Array.from({ length: 400 }, (_, i) => ({ id: i, name: `item ${i}` })) })

/** One request on an HTTP/2 session: the response head and the raw (still encoded) body. */
function h2get(
  session: ReturnType<typeof connect>,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...headers })
    let head: IncomingHttpHeaders = {}
    const chunks: Buffer[] = []
    stream.on('response', (h) => {
      head = h
    })
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => resolve({ headers: head, body: Buffer.concat(chunks) }))
    stream.on('error', reject)
    stream.setTimeout(10_000, () => stream.close())
  })
}

test('over HTTP/2: @fastify/compress gzips a proxied answer, and setErrorHandler gets a 502', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) })
      res.end(BODY)
    },
  })
  t.after(() => origin.close())
  const { key, cert } = await selfSignedCertificate()
  // Typed as the default instance: the two server types make a union no `register` overload accepts.
  const app = Fastify({ http2: true, https: { allowHTTP1: true, key, cert } }) as unknown as FastifyInstance
  let session: ReturnType<typeof connect> | null = null
  // The session first (after-hooks run in order): an open HTTP/2 session would hold app.close() until
  // Fastify's http2SessionTimeout.
  t.after(async () => {
    const s = session
    if (s !== null && !s.closed) await new Promise<void>((resolve) => s.close(() => resolve()))
    await app.close()
  })
  const versions: string[] = []
  const handled: Array<{ statusCode: number | undefined; code: string }> = []
  app.addHook('onRequest', async (request) => {
    versions.push(request.raw.httpVersion)
  })
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    handled.push({ statusCode: err.statusCode, code: err.code })
    reply.code(err.statusCode ?? 500).send({ handledBy: 'app', code: err.code })
  })
  await app.register(compress, { global: true, encodings: ['gzip'] })
  await app.register(reverseProxy, {
    routes: [
      { name: 'api', prefix: '/api', upstreams: [origin.url] },
      { name: 'down', prefix: '/down', upstreams: ['http://127.0.0.1:1'], retries: false },
    ],
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  session = connect(`https://127.0.0.1:${port}`, { ca: cert, servername: 'localhost' })
  session.on('error', () => {})

  const gz = await h2get(session, '/api/list', { 'accept-encoding': 'gzip' })
  assert.equal(gz.headers[':status'], 200)
  assert.equal(gz.headers['content-encoding'], 'gzip')
  assert.ok(gz.body.length < Buffer.byteLength(BODY) / 2, `compressed to ${gz.body.length}`)
  assert.equal(gunzipSync(gz.body).toString(), BODY)

  const down = await h2get(session, '/down/x')
  assert.equal(down.headers[':status'], 502)
  assert.deepEqual(JSON.parse(down.body.toString()), { handledBy: 'app', code: 'PK_BAD_GATEWAY' })
  assert.deepEqual(handled, [{ statusCode: 502, code: 'PK_BAD_GATEWAY' }])
  assert.deepEqual(versions, ['2.0', '2.0'], 'both requests arrived over HTTP/2')
  assert.equal(origin.hits, 1)
})
