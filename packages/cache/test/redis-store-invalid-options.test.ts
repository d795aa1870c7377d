import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRedisClient, RedisStore } from '../src/stores/redis.js'

// RedisStore and createRedisClient refuse a bad option with core's one option error, PK_INVALID_OPTION,
// naming the option's path (issue 25 item 5), before any connection is attempted.

function refuses(make: () => unknown, plugin: string, option: string, rule: RegExp) {
  assert.throws(make, (err: Error & { code?: string; option?: string; plugin?: string }) => {
    assert.equal(err.code, 'PK_INVALID_OPTION')
    assert.ok(err instanceof TypeError)
    assert.equal(err.plugin, plugin)
    assert.equal(err.option, option)
    assert.match(err.message, rule)
    assert.ok(err.message.startsWith(`${plugin}: ${option}: `), err.message)
    return true
  })
}

test('RedisStore: each bad option is a PK_INVALID_OPTION naming it', () => {
  const url = 'redis://127.0.0.1:1'
  refuses(() => new RedisStore({}), 'RedisStore', 'client, url, cluster, sentinels', /pass one of client/)
  refuses(() => new RedisStore({ url, maxEntrySize: 0 }), 'RedisStore', 'maxEntrySize', /positive integer/)
  refuses(() => new RedisStore({ url, maxEntrySize: 1.5 }), 'RedisStore', 'maxEntrySize', /positive integer/)
  refuses(() => new RedisStore({ url, local: -1 }), 'RedisStore', 'local', /whole number of bytes/)
  refuses(() => new RedisStore({ url, heartbeat: 0 }), 'RedisStore', 'heartbeat', /milliseconds/)
  refuses(() => new RedisStore({ url: 'http://127.0.0.1:1' }), 'RedisStore', 'url', /not a redis:\/\//)
  refuses(() => new RedisStore({ cluster: [] }), 'RedisStore', 'cluster', /at least one node URL/)
  refuses(() => new RedisStore({ cluster: [url, 'nope'] }), 'RedisStore', 'cluster[1]', /"nope" is not/)
  refuses(() => new RedisStore({ sentinels: [url] }), 'RedisStore', 'name', /Sentinel group name/)
})

test('createRedisClient: the same errors, in its own name', () => {
  refuses(() => createRedisClient({ url: 'ftp://x' }), 'createRedisClient', 'url', /not a redis:\/\//)
  refuses(
    () => createRedisClient({ sentinels: [] } as never),
    'createRedisClient',
    'sentinels',
    /at least one/,
  )
})
