// A route's `helmet` options are checked with the config, by helmet itself, and named: @fastify/helmet only
// builds helmet's middleware when a request comes, so a bad option used to start the gateway and then
// fail every request of the route.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, resolveConfig } from '../src/index.js'

test('a helmet option helmet refuses is a config problem naming the route and the key', () => {
  const config = {
    reverse: {
      listen: '127.0.0.1:0',
      helmet: { xFrameOptions: { action: 'nope' } },
      routes: [
        { prefix: '/a', upstreams: ['http://127.0.0.1:9'], helmet: { referrerPolicy: { policy: 'bogus' } } },
        { prefix: '/b', upstreams: ['http://127.0.0.1:9'] },
        { prefix: '/c', upstreams: ['http://127.0.0.1:9'], helmet: { contentSecurityPolicy: false } },
      ],
    },
  }
  assert.throws(
    () => resolveConfig(config),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.match(err.message, /reverse\.routes\[0\]\.helmet: .*bogus/)
      assert.match(err.message, /reverse\.helmet: .*nope/)
      assert.doesNotMatch(err.message, /routes\[2\]/)
      return true
    },
  )
})
