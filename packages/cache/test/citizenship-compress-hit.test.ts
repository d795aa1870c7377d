// Issue 21: with @fastify/compress registered, a proxied answer is stored as the upstream sent it (the
// response filter runs before onSend) and compressed per request on the way out, misses and hits alike: one
// identity entry serves gzip and identity clients, each getting the right encoding and Vary.
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import compress from '@fastify/compress'
import { startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import { Agent, request } from 'undici'
import cache, { MemoryStore } from '../src/index.js'
import { addTestProxy } from './helpers.js'

const BODY = 'a cacheable page that compresses well. '.repeat(400)

test('one stored identity entry answers gzip and identity clients, each in its own encoding', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        'cache-control': 'max-age=60',
        'content-length': Buffer.byteLength(BODY),
      })
      res.end(BODY)
    },
  })
  t.after(() => origin.close())
  const store = new MemoryStore({ maxSize: 1024 * 1024 })
  const app = Fastify()
  await app.register(compress, { global: true, encodings: ['gzip'] })
  await app.register(cache, { store })
  addTestProxy(app, origin.url)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/page`
  const client = new Agent()
  t.after(() => client.close())
  const fetch = async (encoding: string) => {
    const res = await request(url, { dispatcher: client, headers: { 'accept-encoding': encoding } })
    return { headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
  }

  // A gzip client's miss: compressed on the way out, stored as the upstream sent it.
  const miss = await fetch('gzip')
  assert.match(String(miss.headers['cache-status']), /fwd=uri-miss; fwd-status=200; stored/)
  assert.equal(miss.headers['content-encoding'], 'gzip')
  assert.equal(gunzipSync(miss.body).toString(), BODY)
  assert.equal(store.count, 1)
  const stored = await store.get({
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/page`,
    headers: {},
  })
  assert.ok(stored, 'the entry is found without Accept-Encoding: it does not vary on it')
  assert.equal(stored.headers['content-encoding'], undefined)
  assert.equal(stored.body.toString(), BODY)

  // An identity client's hit from that entry, then a gzip client's.
  const identity = await fetch('identity')
  assert.match(String(identity.headers['cache-status']), /; hit/)
  assert.equal(identity.headers['content-encoding'], undefined)
  assert.equal(identity.body.toString(), BODY)
  const gzip = await fetch('gzip')
  assert.match(String(gzip.headers['cache-status']), /; hit/)
  assert.equal(gzip.headers['content-encoding'], 'gzip')
  assert.match(String(gzip.headers.vary), /accept-encoding/i)
  assert.equal(gunzipSync(gzip.body).toString(), BODY)
  assert.equal(origin.hits, 1)
  assert.equal(store.count, 1)
})
