import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, resolveConfig } from '../src/config/parse.js'
import { parseDuration, parseListen, parseSize } from '../src/config/units.js'

function problems(document: unknown): string[] {
  try {
    resolveConfig(document)
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return err.problems
  }
  assert.fail('expected the config to be refused')
}

test('durations, sizes and listen addresses are parsed once', () => {
  assert.equal(parseDuration('250ms'), 250)
  assert.equal(parseDuration('5s'), 5000)
  assert.equal(parseDuration('1.5m'), 90_000)
  assert.equal(parseDuration('2h'), 7_200_000)
  assert.equal(parseDuration(1200), 1200)
  assert.equal(parseDuration('5 sec'), null)
  assert.equal(parseDuration(-1), null)
  assert.equal(parseSize('64MiB'), 64 * 1024 * 1024)
  assert.equal(parseSize('512KB'), 512_000)
  assert.equal(parseSize('100'), 100)
  assert.equal(parseSize('1 parsec'), null)
  assert.deepEqual(parseListen('127.0.0.1:3128'), { host: '127.0.0.1', port: 3128 })
  assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 })
  assert.deepEqual(parseListen(':9000'), { host: '127.0.0.1', port: 9000 })
  assert.deepEqual(parseListen(9901), { host: '127.0.0.1', port: 9901 })
  assert.equal(parseListen('127.0.0.1:70000'), null)
  assert.equal(parseListen('localhost'), null)
})

test('an empty document is valid: admin on its default address, nothing else', () => {
  const c = resolveConfig({})
  assert.equal(c.forward, null)
  assert.equal(c.reverse, null)
  assert.deepEqual(c.admin, { listen: { host: '127.0.0.1', port: 9901 }, token: null })
  assert.equal(c.cache.maxSize, 64 * 1024 * 1024)
})

test('balancer names from the issue map onto the reverse proxy’s', () => {
  const c = resolveConfig({
    reverse: {
      routes: [
        { prefix: '/a', upstreams: ['http://127.0.0.1:1'], balancer: 'weighted' },
        { prefix: '/b', upstreams: ['http://127.0.0.1:1'], balancer: 'least-connections' },
      ],
    },
  })
  assert.deepEqual(
    c.reverse!.routes.map((r) => r.balancer),
    ['weighted-round-robin', 'least-in-flight'],
  )
})

test('errors name the path and the rule', () => {
  assert.deepEqual(problems({ reverse: { routes: [{ upstreams: ['http://127.0.0.1:1/path'] }] } }), [
    'reverse.routes[0].upstreams[0]: must be an http(s) URL (scheme, host and port; no path)',
  ])
  assert.deepEqual(problems({ reverse: { routes: [{ prefix: '/x' }] } }), [
    'reverse.routes[0].upstreams: is required (or respond, or static)',
  ])
  assert.deepEqual(problems({ forward: { auth: { users: { bob: 'plain-text' } } } }), [
    'forward.auth.users.bob: must be a scrypt ("scrypt$N$r$p$salt$hash") or bcrypt ("$2b$…") hash',
  ])
  assert.deepEqual(problems({ forward: { auth: { users: { 'bob smith': 'x' } } } }), [
    'forward.auth.users["bob smith"]: must be a scrypt ("scrypt$N$r$p$salt$hash") or bcrypt ("$2b$…") hash',
  ])
  assert.deepEqual(problems({ forward: { connectPorts: [443, 'x'] } }), [
    'forward.connectPorts[1]: must be an integer',
  ])
  assert.deepEqual(
    problems({ reverse: { trustProxy: ['lb.internal'], routes: [{ upstreams: ['http://127.0.0.1:1'] }] } }),
    ['reverse.trustProxy[0]: must be an IP address or a CIDR'],
  )
  assert.deepEqual(problems({ loggin: {} }), ['loggin: is not a known key (did you mean "log"?)'])
  assert.deepEqual(problems([]), ['(root): must be a mapping'])
})

test('cross-field rules are checked after the schema', () => {
  assert.deepEqual(problems({ cache: { store: 'redis' } }), [
    'redis: is required when cache.store is "redis"',
  ])
  assert.deepEqual(problems({ forward: { listen: '127.0.0.1:7000' }, admin: { listen: '127.0.0.1:7000' } }), [
    'admin.listen: 127.0.0.1:7000 is already taken by forward.listen',
  ])
  assert.deepEqual(
    problems({
      reverse: {
        routes: [
          { name: 'x', prefix: '/a', upstreams: ['http://127.0.0.1:1'] },
          { name: 'x', prefix: '/b', upstreams: ['http://127.0.0.1:1'] },
        ],
      },
    }),
    ['reverse.routes[1].name: "x" is already used by reverse.routes[0]'],
  )
  assert.deepEqual(
    problems({
      reverse: { routes: [{ upstreams: ['http://127.0.0.1:1', { url: 'http://127.0.0.1:1/' }] }] },
    }),
    ['reverse.routes[0].upstreams[1]: http://127.0.0.1:1 is already upstreams[0]'],
  )
  assert.deepEqual(problems({ cache: { maxSize: '1MiB', maxEntrySize: '2MiB' } }), [
    'cache.maxEntrySize: must not be larger than cache.maxSize (1MiB)',
  ])
})
