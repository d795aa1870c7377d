// Issue 21: with @fastify/compress registered, the reverse proxy's answers go through Fastify's onSend
// (chosen once for the route, since the app has an onSend hook): a gzip client gets a gzip body, an
// identity client the upstream's bytes, and both the same content.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import compress from '@fastify/compress'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { client, startProxy } from './helpers.js'

const BODY = JSON.stringify({ items: Array.from({ length: 400 }, (_, i) => ({ id: i, name: `item ${i}` })) })

test('@fastify/compress compresses proxied answers for clients that accept gzip, and only for them', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) })
      res.end(BODY)
    },
  })
  t.after(() => origin.close())
  const proxy = await startProxy(
    t,
    { routes: [{ name: 'api', prefix: '/api', upstreams: [origin.url] }] },
    { before: (app) => app.register(compress, { global: true, encodings: ['gzip'] }) },
  )
  const agent = client(t)
  const gz = await request(`${proxy.url}/api/list`, {
    dispatcher: agent,
    headers: { 'accept-encoding': 'gzip' },
  })
  assert.equal(gz.statusCode, 200)
  assert.equal(gz.headers['content-encoding'], 'gzip')
  assert.match(String(gz.headers.vary), /accept-encoding/i)
  const zipped = Buffer.from(await gz.body.arrayBuffer())
  assert.ok(zipped.length < Buffer.byteLength(BODY) / 2, `compressed to ${zipped.length}`)
  assert.equal(gunzipSync(zipped).toString(), BODY)

  const plain = await request(`${proxy.url}/api/list`, {
    dispatcher: agent,
    headers: { 'accept-encoding': 'identity' },
  })
  assert.equal(plain.statusCode, 200)
  assert.equal(plain.headers['content-encoding'], undefined)
  assert.equal(await plain.body.text(), BODY)
  assert.equal(origin.hits, 2)
})
