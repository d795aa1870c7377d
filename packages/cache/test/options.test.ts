import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import cache, { type CacheOptions } from '../src/index.js'

// Options are validated once, at registration, with a message naming the option and the rule.
const bad: Array<[CacheOptions, RegExp]> = [
  [{ maxSize: 0 }, /maxSize: must be a whole number of bytes from 1/],
  [{ maxEntrySize: -1 }, /maxEntrySize: must be a whole number of bytes from 1/],
  [{ maxSize: 1024, maxEntrySize: 2048 }, /maxEntrySize: 2048 must not exceed maxSize \(1024\)/],
  [{ heuristicFraction: 2 }, /heuristicFraction: must be a number from 0 to 1/],
  [{ keep: 1.5 }, /keep: must be a non-negative integer/],
  [{ shareSetCookie: 'yes' as never }, /shareSetCookie: must be a boolean/],
  [{ collapse: 1 as never }, /collapse: must be a boolean/],
  [{ collapseTimeout: 0 }, /collapseTimeout: must be a positive integer/],
  [{ tagHeader: 'bad header' }, /tagHeader: must be a header name or false/],
  [{ name: 'two words' }, /name: must be a token/],
  [{ store: { get() {} } as never }, /store: must implement get, createWriteStream, delete and deleteTag/],
]

for (const [opts, message] of bad) {
  test(`refuses ${JSON.stringify(opts)}`, async () => {
    const app = Fastify()
    await assert.rejects(
      async () => {
        await app.register(cache, opts)
        await app.ready()
      },
      { code: 'PK_INVALID_OPTION', message },
    )
    await app.close()
  })
}

test('registering twice on one instance is refused', async () => {
  const app = Fastify()
  app.register(cache)
  app.register(cache)
  await assert.rejects(async () => {
    await app.ready()
  }, /already registered/)
  await app.close()
})

test('the name option changes the Cache-Status member; request.proxy.cache holds it for the access log', async () => {
  const app = Fastify()
  await app.register(cache, { name: 'edge-1' })
  const seen: Array<string | null> = []
  app.addHook('onResponse', async (request) => {
    seen.push(request.proxy.cache)
  })
  app.get('/x', async (_req, reply) => {
    reply.header('cache-control', 'max-age=60')
    return 'x'
  })
  const a = await app.inject('/x')
  const b = await app.inject('/x')
  assert.match(String(a.headers['cache-status']), /^edge-1; fwd=uri-miss; fwd-status=200; stored/)
  assert.match(String(b.headers['cache-status']), /^edge-1; hit/)
  assert.equal(seen.length, 2)
  assert.equal(seen[0], a.headers['cache-status'])
  assert.equal(seen[1], b.headers['cache-status'])
  await app.close()
})

test('an upstream Cache-Status is kept and ours appended (RFC 9211 §2)', async () => {
  const app = Fastify()
  await app.register(cache)
  app.get('/x', async (_req, reply) => {
    reply.header('cache-control', 'max-age=60').header('cache-status', 'origin-cache; hit')
    return 'x'
  })
  const a = await app.inject('/x')
  const b = await app.inject('/x')
  assert.match(String(a.headers['cache-status']), /^origin-cache; hit, proxykit; fwd=uri-miss/)
  assert.match(String(b.headers['cache-status']), /^origin-cache; hit, proxykit; hit/)
  await app.close()
})
