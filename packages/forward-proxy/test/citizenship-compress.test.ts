// Issue 21: with @fastify/compress registered, forward-proxied (absolute-form) answers go through Fastify's
// onSend: a gzip client gets gzip, an identity client the origin's bytes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import compress from '@fastify/compress'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

/** The body of a chunked answer as raw bytes (the raw client leaves the framing in place). */
function dechunk(framed: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = framed.indexOf('\r\n', at)
    const size = Number.parseInt(framed.toString('latin1', at, eol), 16)
    if (!(size > 0)) return Buffer.concat(parts)
    parts.push(framed.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}

const BODY = 'forwarded text, repeated until compression is worth it. '.repeat(200)

test('@fastify/compress compresses absolute-form answers for gzip clients only', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(BODY) })
      res.end(BODY)
    },
  })
  const proxy = await startProxy({}, async (app) => {
    await app.register(compress, { global: true, encodings: ['gzip'] })
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const target = `http://127.0.0.1:${origin.port}/text`
  const gz = await send(
    proxy.port,
    `GET ${target} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(gz.statusCode, 200)
  assert.equal(gz.headers['content-encoding'], 'gzip')
  const zipped = gz.headers['transfer-encoding'] === 'chunked' ? dechunk(gz.body) : gz.body
  assert.ok(zipped.length < BODY.length / 4, `compressed to ${zipped.length}`)
  assert.equal(gunzipSync(zipped).toString(), BODY)
  const plain = await send(
    proxy.port,
    `GET ${target} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(plain.statusCode, 200)
  assert.equal(plain.headers['content-encoding'], undefined)
  assert.equal(plain.body.toString(), BODY)
})
