// Issue 21 (c): on Fastify's answer path (the app has an onSend hook), a body whose Content-Length is at
// most core's BUFFERED_BODY_LIMIT reaches the hooks as one Buffer, which @fastify/compress compresses in
// one synchronous call with a Content-Length (a stream costs it a zlib stream and a chunked answer); a
// longer body, or one without a length, still reaches them as a stream. Every answer is the upstream's bytes.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import compress from '@fastify/compress'
import { BUFFERED_BODY_LIMIT } from '@proxykit/core'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { client, startProxy } from './helpers.js'

const text = (n: number) => Buffer.alloc(n, 'The quick brown fox jumps over the lazy dog. ').toString()
const SMALL = text(16 * 1024)
const LARGE = text(BUFFERED_BODY_LIMIT + 1)

test('a small body with a length reaches onSend hooks as a Buffer, a large or unsized one as a stream', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      const body = req.url === '/small' || req.url === '/chunked' ? SMALL : LARGE
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' }
      if (req.url !== '/chunked') headers['content-length'] = String(Buffer.byteLength(body))
      res.writeHead(200, headers)
      res.end(body)
    },
  })
  t.after(() => origin.close())
  const payloads: string[] = []
  const proxy = await startProxy(
    t,
    { routes: [{ upstreams: [origin.url] }] },
    {
      before: async (app) => {
        // syncThreshold pinned: its default depends on the machine's core count.
        await app.register(compress, { global: true, encodings: ['gzip'], syncThreshold: 64 * 1024 })
        app.addHook('onSend', async (_request, _reply, payload) => {
          payloads.push(
            Buffer.isBuffer(payload) ? 'buffer' : payload instanceof Readable ? 'stream' : typeof payload,
          )
          return payload
        })
      },
    },
  )
  const agent = client(t)
  const get = (path: string) =>
    request(`${proxy.url}${path}`, { dispatcher: agent, headers: { 'accept-encoding': 'gzip' } })

  const small = await get('/small')
  assert.equal(small.statusCode, 200)
  assert.equal(small.headers['content-encoding'], 'gzip')
  const zipped = Buffer.from(await small.body.arrayBuffer())
  assert.equal(small.headers['content-length'], String(zipped.length), 'compressed in one go, with a length')
  assert.equal(small.headers['transfer-encoding'], undefined)
  assert.equal(gunzipSync(zipped).toString(), SMALL)

  for (const path of ['/large', '/chunked']) {
    const res = await get(path)
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-encoding'], 'gzip')
    assert.equal(res.headers['content-length'], undefined, `${path} is compressed as a stream`)
    assert.equal(
      gunzipSync(Buffer.from(await res.body.arrayBuffer())).toString(),
      path === '/large' ? LARGE : SMALL,
    )
  }
  // The app's hook runs before compress's: what the proxy handed to reply.send.
  assert.deepEqual(payloads, ['buffer', 'stream', 'stream'])
})
