// Issue 21 (c): on Fastify's answer path (the app has an onSend hook), a body whose Content-Length is at
// most core's BUFFERED_BODY_LIMIT reaches the hooks as one Buffer, which @fastify/compress compresses in
// one synchronous call with a Content-Length. The limit is compress's default syncThreshold on this host:
// above it compress would wrap a Buffer in Readable.from and stream it anyway, which costs more than the
// upstream's own stream, so a body over it (and one without a length) reaches the hooks as a stream.
// Every answer is the upstream's bytes.
import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import compress from '@fastify/compress'
// @ts-expect-error: compress's helper module has no types; it is what compress computes its default from.
import { computeSyncThreshold } from '@fastify/compress/lib/utils.js'
import { BUFFERED_BODY_LIMIT, syncThresholdOf } from '@proxykit/core'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { client, startProxy } from './helpers.js'

const text = (n: number) => Buffer.alloc(n, 'The quick brown fox jumps over the lazy dog. ').toString()
const BODIES: Record<string, string> = {
  // At most 4 KiB, the lowest the limit gets: buffered on every host.
  '/small': text(4 * 1024),
  // Buffered where compress's default syncThreshold is 64 KiB (one core), streamed where it is lower.
  '/16k': text(16 * 1024),
  '/over': text(BUFFERED_BODY_LIMIT + 1),
  '/chunked': text(4 * 1024),
}

test('the limit is @fastify/compress’s default syncThreshold, for any core count and on this host', () => {
  for (let cores = 1; cores <= 8; cores++) assert.equal(syncThresholdOf(cores), computeSyncThreshold(cores))
  assert.equal(BUFFERED_BODY_LIMIT, computeSyncThreshold(availableParallelism()))
})

test('a body with a length up to the limit reaches onSend hooks as a Buffer, a longer or unsized one as a stream', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      const body = BODIES[req.url ?? ''] ?? ''
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
        // compress's defaults: its syncThreshold is the host's, as in an app that does not set it.
        await app.register(compress, { global: true, encodings: ['gzip'] })
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
  const expected: string[] = []
  for (const path of ['/small', '/16k', '/over', '/chunked']) {
    const body = BODIES[path]!
    const buffered = path !== '/chunked' && body.length <= BUFFERED_BODY_LIMIT
    expected.push(buffered ? 'buffer' : 'stream')
    const res = await request(`${proxy.url}${path}`, {
      dispatcher: agent,
      headers: { 'accept-encoding': 'gzip' },
    })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-encoding'], 'gzip', path)
    const zipped = Buffer.from(await res.body.arrayBuffer())
    if (buffered) {
      assert.equal(res.headers['content-length'], String(zipped.length), `${path} is compressed in one go`)
      assert.equal(res.headers['transfer-encoding'], undefined)
    } else assert.equal(res.headers['content-length'], undefined, `${path} is compressed as a stream`)
    assert.equal(gunzipSync(zipped).toString(), body, path)
  }
  // The app's hook runs before compress's: what the proxy handed to reply.send.
  assert.deepEqual(payloads, expected)
  // On a host of more than one core the 16 KiB body is over the limit: the case a fixed 64 KiB got wrong.
  if (availableParallelism() > 1) assert.equal(payloads[1], 'stream')
})
