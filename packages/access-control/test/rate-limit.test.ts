import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { redisForTests } from '@proxykit/core/testing'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import accessControl, { type AccessControlOptions, hashPassword } from '../src/index.js'
import { basic } from './helpers.js'

async function app(options: AccessControlOptions, trustProxy = false) {
  const f = Fastify({ trustProxy })
  await f.register(accessControl, options)
  f.get('/*', async () => 'ok')
  f.get(
    '/limited',
    { config: { accessControl: { rateLimit: { max: 1, timeWindow: 60_000 } } } },
    async () => 'ok',
  )
  f.get('/health', { config: { accessControl: false } }, async () => 'up')
  await f.ready()
  return f
}

test('a rule limit in memory: 429 with Retry-After once the rule has let max requests through', async (t) => {
  const f = await app({
    rules: [
      { name: 'api', action: 'allow', paths: ['/api'], rateLimit: { max: 2, timeWindow: 60_000 } },
      { action: 'allow' },
    ],
  })
  t.after(() => f.close())
  assert.equal((await f.inject('/api/a')).statusCode, 200)
  assert.equal((await f.inject('/API/b')).statusCode, 200)
  const limited = await f.inject('/api/c')
  assert.equal(limited.statusCode, 429)
  const retry = Number(limited.headers['retry-after'])
  assert.ok(retry >= 1 && retry <= 60, String(retry))
  assert.match(limited.body, /Too many requests/)
  // other rules keep their own (here: no) limit
  assert.equal((await f.inject('/other')).statusCode, 200)
  // a route with accessControl: false is not counted or limited
  assert.equal((await f.inject('/health')).statusCode, 200)
})

test('per-route limit through config.accessControl; the client key follows trustProxy', async (t) => {
  const f = await app({ rules: [{ action: 'allow' }] }, true)
  t.after(() => f.close())
  const from = (ip: string) => f.inject({ url: '/limited', headers: { 'x-forwarded-for': ip } })
  assert.equal((await from('192.0.2.1')).statusCode, 200)
  assert.equal((await from('192.0.2.1')).statusCode, 429)
  assert.equal((await from('192.0.2.2')).statusCode, 200)
})

test('limits keyed by user count each user separately', async (t) => {
  const hash = await hashPassword('pw', { N: 1024 })
  const f = await app({
    rules: [{ action: 'allow', users: ['*'], rateLimit: { max: 1, timeWindow: 60_000, key: 'user' } }],
    auth: { users: { u1: hash, u2: hash } },
  })
  t.after(() => f.close())
  const as = (user: string) => f.inject({ url: '/x', headers: { authorization: basic(user, 'pw') } })
  assert.equal((await as('u1')).statusCode, 200)
  assert.equal((await as('u1')).statusCode, 429)
  assert.equal((await as('u2')).statusCode, 200)
})

test('report-only mode counts but does not answer 429', async (t) => {
  const f = await app({
    mode: 'report',
    rules: [{ action: 'allow', rateLimit: { max: 1, timeWindow: 60_000 } }],
  })
  t.after(() => f.close())
  assert.equal((await f.inject('/a')).statusCode, 200)
  assert.equal((await f.inject('/a')).statusCode, 200)
})

test('two instances on one real Redis share one limit', async (t) => {
  const redis = await redisForTests()
  if (redis === null) return t.skip('redis-server is not installed')
  const nameSpace = `ac-test-${randomBytes(6).toString('hex')}-`
  const clients = [new Redis(redis.url), new Redis(redis.url)]
  const options = (client: Redis): AccessControlOptions => ({
    rules: [{ action: 'allow' }],
    rateLimit: { redis: client, nameSpace, global: { max: 3, timeWindow: 60_000 } },
  })
  const a = await app(options(clients[0]!))
  const b = await app(options(clients[1]!))
  // One teardown, in order: the apps, our keys, the clients, then the server.
  t.after(async () => {
    await Promise.all([a.close(), b.close()])
    const keys = await clients[0]!.keys(`${nameSpace}*`)
    if (keys.length > 0) await clients[0]!.del(...keys)
    await Promise.all(clients.map((c) => c.quit()))
    await redis.stop()
  })
  const statuses = []
  for (const f of [a, b, a, b, a]) statuses.push((await f.inject('/x')).statusCode)
  assert.deepEqual(statuses, [200, 200, 200, 429, 429])
  const keys = await clients[0]!.keys(`${nameSpace}*`)
  assert.equal(keys.length, 1, keys.join(','))
})
