// Issue 24 item 1: `redis` takes one server (`url`), a Redis Cluster (`cluster`) or a Sentinel group
// (`sentinels` with `name`); exactly one of the three, each problem named by its key.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, resolveConfig } from '../src/config/parse.js'

function problems(document: unknown): string[] {
  try {
    resolveConfig(document)
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return err.problems
  }
  assert.fail(`expected ${JSON.stringify(document)} to be refused`)
}

test('redis resolves to one connection: a URL, a cluster or a Sentinel group', () => {
  assert.deepEqual(resolveConfig({ redis: 'redis://127.0.0.1:6379' }).redis?.connection, {
    url: 'redis://127.0.0.1:6379',
  })
  const cluster = resolveConfig({ redis: { cluster: ['redis://127.0.0.1:7000', 'redis://127.0.0.1:7001'] } })
  assert.deepEqual(cluster.redis?.connection, {
    cluster: ['redis://127.0.0.1:7000', 'redis://127.0.0.1:7001'],
  })
  assert.equal(cluster.redis?.prefix, 'proxykit:gateway:')
  const sentinel = resolveConfig({
    redis: { sentinels: ['redis://127.0.0.1:26379'], name: 'main', rateLimits: 'fail-closed' },
    cache: { store: 'redis' },
  })
  assert.deepEqual(sentinel.redis?.connection, { sentinels: ['redis://127.0.0.1:26379'], name: 'main' })
  assert.equal(sentinel.redis?.rateLimits, 'fail-closed')
})

test('redis refuses none or several of url, cluster and sentinels, and sentinels without name', () => {
  assert.deepEqual(problems({ redis: { prefix: 'x:' } }), ['redis: needs one of url, cluster or sentinels'])
  assert.deepEqual(problems({ redis: { url: 'redis://127.0.0.1', cluster: ['redis://127.0.0.1:7000'] } }), [
    'redis: url and cluster are exclusive; give one',
  ])
  assert.deepEqual(problems({ redis: { sentinels: ['redis://127.0.0.1:26379'] } }), [
    'redis.name: is required with redis.sentinels (the Sentinel group name)',
  ])
  assert.deepEqual(problems({ redis: { url: 'redis://127.0.0.1', name: 'main' } }), [
    'redis.name: only means something with redis.sentinels',
  ])
  assert.deepEqual(problems({ redis: { cluster: ['http://127.0.0.1:7000'] } }), [
    'redis.cluster[0]: must be a redis:// or rediss:// URL',
  ])
  assert.deepEqual(problems({ redis: { cluster: [] } }), ['redis.cluster: must list at least 1 item'])
})
