import assert from 'node:assert/strict'
import { test } from 'node:test'
import { respond, setup } from './helpers.js'

test('a storable response is stored on the miss and answered from the store after', async (t) => {
  const s = await setup(t, respond({ 'cache-control': 'max-age=60', etag: '"v1"' }, 'hello world'))
  const first = await s.get('/a?x=1')
  assert.equal(first.status, 200)
  assert.equal(first.body, 'hello world')
  assert.match(
    first.headers['cache-status']!,
    /^proxykit; fwd=uri-miss; fwd-status=200; stored; ttl=(5[5-9]|60)$/,
  )
  assert.equal(s.origin.hits, 1)

  const second = await s.get('/a?x=1')
  assert.equal(second.status, 200)
  assert.equal(second.body, 'hello world')
  assert.match(second.headers['cache-status']!, /^proxykit; hit; ttl=(5[5-9]|60)$/)
  assert.match(second.headers.age!, /^\d$/)
  assert.equal(second.headers['content-length'], '11')
  assert.equal(second.headers.etag, '"v1"')
  assert.equal(s.origin.hits, 1, 'the hit did not reach the origin')

  // The query is part of the key.
  await s.get('/a?x=2')
  assert.equal(s.origin.hits, 2)
  const m = s.app.proxyCache.metrics()
  assert.equal(m.hits, 1)
  assert.equal(m.misses, 2)
  assert.equal(m.stores, 2)
  assert.equal(m.storedBytes, 22)
})

test('plain Fastify routes are cached too (onSend), with string, Buffer and stream payloads', async (t) => {
  let calls = 0
  const s = await setup(t, respond({}), {}, (app) => {
    app.get('/string', async (_req, reply) => {
      calls++
      reply.header('cache-control', 'max-age=60')
      return 'from a string'
    })
    app.get('/buffer', async (_req, reply) => {
      calls++
      reply.header('cache-control', 'max-age=60').type('application/octet-stream')
      return Buffer.from([0, 1, 2, 255])
    })
    app.get('/stream', async (_req, reply) => {
      calls++
      const { Readable } = await import('node:stream')
      reply.header('cache-control', 'max-age=60').type('text/plain')
      return reply.send(Readable.from(['a', 'b', 'c']))
    })
  })
  for (const path of ['/string', '/buffer', '/stream']) {
    const a = await s.get(path)
    const b = await s.get(path)
    assert.equal(a.status, 200)
    assert.equal(b.body, a.body, path)
    assert.match(a.headers['cache-status']!, /stored/, path)
    assert.match(b.headers['cache-status']!, /; hit;/, path)
  }
  assert.equal(calls, 3, 'each route ran once')
})
