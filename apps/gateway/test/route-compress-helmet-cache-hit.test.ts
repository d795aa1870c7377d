// Issue 27 item 3: a route's `compress` (@fastify/compress) and `helmet` (@fastify/helmet) apply to
// proxied answers and to cache hits alike: gzip and brotli as the client asks, bodies under `threshold`
// sent as they are, and helmet's headers on every answer.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

test('compress and helmet on a miss and on a cache hit', async (t) => {
  const big = 'proxykit '.repeat(500)
  const origin = await startOrigin({
    handler: (req, res) => {
      const body = req.url?.includes('small') ? 'tiny' : big
      res.writeHead(200, {
        'content-type': 'text/plain',
        'cache-control': 'public, max-age=60',
        'content-length': String(Buffer.byteLength(body)),
      })
      res.end(body)
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          name: 'site',
          prefix: '/',
          upstreams: [origin.url],
          cache: true,
          helmet: { contentSecurityPolicy: false },
          compress: { encodings: ['br', 'gzip'], threshold: '1KiB' },
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const get = async (path: string, encoding: string) => {
    const res = await request(`${gw.urls.reverse}${path}`, { headers: { 'accept-encoding': encoding } })
    return { headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
  }

  const miss = await get('/page', 'gzip')
  assert.equal(miss.headers['content-encoding'], 'gzip')
  assert.equal(gunzipSync(miss.body).toString(), big)
  assert.equal(miss.headers['x-content-type-options'], 'nosniff')
  assert.equal(miss.headers['content-security-policy'], undefined, 'helmet options apply')
  assert.match(String(miss.headers['cache-status']), /miss/)

  const hit = await get('/page', 'br')
  assert.match(String(hit.headers['cache-status']), /hit/)
  assert.equal(hit.headers['content-encoding'], 'br')
  assert.equal(brotliDecompressSync(hit.body).toString(), big)
  assert.equal(hit.headers['x-frame-options'], 'SAMEORIGIN')
  assert.match(String(hit.headers.vary), /accept-encoding/i)

  const identity = await get('/page', 'identity')
  assert.equal(identity.headers['content-encoding'], undefined)
  assert.equal(identity.body.toString(), big)

  const small = await get('/small', 'gzip')
  assert.equal(small.headers['content-encoding'], undefined, 'under the threshold')
  assert.equal(small.body.toString(), 'tiny')
  assert.equal(origin.hits, 2, 'the page was fetched once, the small body once')
  assert.equal(await gw.stop(), 0)
})
