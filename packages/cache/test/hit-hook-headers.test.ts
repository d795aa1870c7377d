import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import Fastify from 'fastify'
import { Agent } from 'undici'
import { cache } from '../src/index.js'
import { fetchOnce } from './helpers.js'

// A hit is answered on reply.raw after reply.hijack(): the headers this request's own hooks set with
// reply.header() (CORS, security headers …) must still go out with it, made for this request.
test('headers set by the request’s own hooks go out with a hit, and win over stored ones', async (t) => {
  const app = Fastify()
  await app.register(cache)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-hook', String(request.headers['x-n']))
    reply.header('x-shared', `hook ${request.headers['x-n']}`)
    reply.header('content-length', '999') // a hit's own length is never taken from a hook
  })
  let runs = 0
  app.get('/h', (_request, reply) => {
    runs++
    reply.header('cache-control', 'max-age=60').header('etag', '"e"').send('body')
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/h`
  const client = new Agent()
  t.after(() => client.close())

  const first = await fetchOnce(client, url, { 'x-n': '1' })
  assert.equal(first.headers['x-hook'], '1')
  const hit = await fetchOnce(client, url, { 'x-n': '2' })
  assert.match(hit.headers['cache-status']!, /; hit;/)
  assert.equal(runs, 1)
  assert.equal(hit.body, 'body')
  assert.equal(hit.headers['x-hook'], '2')
  assert.equal(hit.headers['x-shared'], 'hook 2', 'the stored value (hook 1) was replaced, not repeated')
  assert.equal(hit.headers['content-length'], '4')
  const notModified = await fetchOnce(client, url, { 'x-n': '3', 'if-none-match': '"e"' })
  assert.equal(notModified.status, 304)
  assert.equal(notModified.headers['x-hook'], '3')
})

// Headers set on reply.raw directly (an older middleware, `reply.raw.setHeader`) count too, and win over
// stored ones like reply.header() values: the hit reads only Fastify's table when the raw response has none.
test('headers a hook set on reply.raw go out with a hit, beside reply.header() ones', async (t) => {
  const app = Fastify()
  await app.register(cache)
  app.addHook('onRequest', async (request, reply) => {
    const raw = request.headers['x-raw']
    if (raw !== undefined) reply.raw.setHeader('x-raw', String(raw)).setHeader('x-both', `hook ${raw}`)
    reply.header('x-hook', 'yes')
  })
  let runs = 0
  app.get('/r', (_request, reply) => {
    runs++
    reply.header('cache-control', 'max-age=60').header('x-both', 'origin').send('body')
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/r`
  const client = new Agent()
  t.after(() => client.close())

  await fetchOnce(client, url, {})
  const plain = await fetchOnce(client, url, {})
  assert.match(plain.headers['cache-status']!, /; hit;/)
  assert.equal(plain.headers['x-raw'], undefined)
  assert.equal(plain.headers['x-hook'], 'yes')
  assert.equal(plain.headers['x-both'], 'origin')
  const raw = await fetchOnce(client, url, { 'x-raw': 'r1' })
  assert.match(raw.headers['cache-status']!, /; hit;/)
  assert.equal(raw.headers['x-raw'], 'r1')
  assert.equal(raw.headers['x-both'], 'hook r1', 'the hook’s value replaces the stored one')
  assert.equal(raw.headers['x-hook'], 'yes')
  assert.equal(runs, 1)
})
