import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import cache from '../src/index.js'
import { addTestProxy, setup } from './helpers.js'

test('config.cache: false bypasses the cache for that route only', async (t) => {
  let calls = 0
  const s = await setup(
    t,
    () => {},
    {},
    (app) => {
      app.get('/off', { config: { cache: false } }, async (_req, reply) => {
        calls++
        reply.header('cache-control', 'max-age=60')
        return 'off'
      })
      app.get('/on', async (_req, reply) => {
        calls++
        reply.header('cache-control', 'max-age=60')
        return 'on'
      })
    },
  )
  const off = await s.get('/off')
  await s.get('/off')
  assert.equal(off.headers['cache-status'], undefined)
  await s.get('/on')
  await s.get('/on')
  assert.equal(calls, 3)
})

test('config.cache.ttl overrides the response freshness', async (t) => {
  let calls = 0
  const s = await setup(
    t,
    () => {},
    {},
    (app) => {
      app.get('/ttl', { config: { cache: { ttl: 300 } } }, async () => {
        calls++
        return 'no cache-control here'
      })
    },
  )
  const a = await s.get('/ttl')
  assert.match(a.headers['cache-status']!, /stored; ttl=(29[5-9]|300)/)
  await s.get('/ttl')
  assert.equal(calls, 1)
})

test('config.cache.ttl does not override no-store or private', async (t) => {
  let calls = 0
  const s = await setup(
    t,
    () => {},
    {},
    (app) => {
      app.get('/p', { config: { cache: { ttl: 300 } } }, async (_req, reply) => {
        calls++
        reply.header('cache-control', 'private')
        return 'mine'
      })
    },
  )
  await s.get('/p')
  await s.get('/p')
  assert.equal(calls, 2)
})

test('config.cache.key adds a key part (one entry per value)', async (t) => {
  const s = await setup(
    t,
    () => {},
    {},
    (app) => {
      let n = 0
      app.get(
        '/k',
        { config: { cache: { key: (req) => String(req.headers['x-tenant'] ?? '') } } },
        async (req, reply) => {
          n++
          reply.header('cache-control', 'max-age=60')
          return `${req.headers['x-tenant']}:${n}`
        },
      )
    },
  )
  const a1 = await s.get('/k', { 'x-tenant': 'a' })
  const b1 = await s.get('/k', { 'x-tenant': 'b' })
  const a2 = await s.get('/k', { 'x-tenant': 'a' })
  const b2 = await s.get('/k', { 'x-tenant': 'b' })
  assert.equal(a1.body, 'a:1')
  assert.equal(b1.body, 'b:2')
  assert.equal(a2.body, 'a:1')
  assert.equal(b2.body, 'b:2')
  // Purging the URL removes every key part.
  await s.app.proxyCache.purge({ url: `${s.url}/k` })
  assert.equal((await s.get('/k', { 'x-tenant': 'a' })).body, 'a:3')
})

test('bad route config is refused at registration, naming the route', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(cache)
  addTestProxy(app, 'http://127.0.0.1:9')
  assert.throws(() => app.get('/bad', { config: { cache: { ttl: -1 } } }, async () => 'x'), {
    code: 'PK_INVALID_OPTION',
    message: /route \/bad: config.cache.ttl: must be a non-negative integer/,
  })
  assert.throws(
    () => app.get('/bad2', { config: { cache: { nope: 1 } as never } }, async () => 'x'),
    /unknown option nope/,
  )
})

test('a key function that throws is the app error it is (500), not a crash', async (t) => {
  const s = await setup(
    t,
    () => {},
    {},
    (app) => {
      app.get(
        '/throws',
        {
          config: {
            cache: {
              key: () => {
                throw new Error('no tenant')
              },
            },
          },
        },
        async () => 'never',
      )
    },
  )
  const r = await s.get('/throws')
  assert.equal(r.status, 500)
})
