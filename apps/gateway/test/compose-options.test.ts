import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forwardAccessOptions, reverseAccessOptions } from '../src/compose/access.js'
import { forwardProxyOptions } from '../src/compose/forward.js'
import { denyPaths, reverseProxyOptions, routeMatcher } from '../src/compose/reverse.js'
import { resolveConfig } from '../src/config/parse.js'

test('forward config → forward-proxy and access-control options', () => {
  const { forward } = resolveConfig({
    forward: {
      allow: ['*.example.com', '10.0.0.0/8', '127.0.0.1', 'loopback'],
      deny: ['ads.example.com', '10.9.0.0/16'],
      parent: { url: 'http://127.0.0.1:3129', username: 'u', password: 'p' },
      rateLimit: { max: 5, timeWindow: '10s' },
    },
  })
  const proxy = forwardProxyOptions(forward!)
  assert.deepEqual(proxy.allow, ['loopback', '10.0.0.0/8', '127.0.0.1'])
  assert.deepEqual(proxy.deny, ['10.9.0.0/16'])
  assert.deepEqual(proxy.parentProxy, { url: 'http://127.0.0.1:3129', username: 'u', password: 'p' })
  const access = forwardAccessOptions(forward!)
  assert.equal(access.defaultAction, 'deny')
  assert.deepEqual(
    access.rules!.map((r) => [r.name, r.action, r.hosts ?? r.destinations ?? r.addressClasses]),
    [
      ['forward.deny', 'deny', ['ads.example.com']],
      ['forward.deny', 'deny', ['10.9.0.0/16']],
      ['forward.allow', 'allow', ['*.example.com']],
      ['forward.allow', 'allow', ['10.0.0.0/8', '127.0.0.1']],
      ['forward.allow', 'allow', ['loopback']],
    ],
  )
  assert.deepEqual(access.rateLimit?.global, { max: 5, timeWindow: 10_000, key: 'user' })
})

test('without an allow list every destination not denied is allowed; allowPrivate opens the guard', () => {
  const { forward } = resolveConfig({ forward: { allowPrivate: true } })
  assert.equal(forwardAccessOptions(forward!).defaultAction, 'allow')
  assert.ok(forwardProxyOptions(forward!).allow!.includes('private'))
  assert.ok(!forwardProxyOptions(forward!).allow!.includes('public'))
})

test('reverse routes → reverse-proxy options, deny paths and rate-limit rules', () => {
  const { reverse } = resolveConfig({
    reverse: {
      trustProxy: ['10.0.0.0/8'],
      routes: [
        {
          name: 'api',
          prefix: '/api',
          rewritePrefix: '/v1',
          upstreams: ['http://127.0.0.1:1', { url: 'http://127.0.0.1:2', weight: 3 }],
          balancer: 'weighted',
          retries: 0,
          timeout: '2s',
          deny: ['/admin', '/api/internal'],
          rateLimit: { max: 10 },
        },
        { prefix: '/', host: 'App.Example.com', upstreams: ['http://127.0.0.1:3'], preserveHost: true },
      ],
    },
  })
  assert.deepEqual(reverse!.trustProxy, ['10.0.0.0/8'])
  const [api, site] = reverseProxyOptions(reverse!.routes).routes
  assert.equal(api!.balancer, 'weighted-round-robin')
  assert.equal(api!.rewritePrefix, '/v1')
  assert.equal(api!.retries, false)
  assert.deepEqual(api!.timeouts, { headers: 2000 })
  assert.deepEqual(api!.upstreams, [
    { url: 'http://127.0.0.1:1', weight: 1 },
    { url: 'http://127.0.0.1:2', weight: 3 },
  ])
  assert.deepEqual(site!.host, ['app.example.com'])
  assert.equal(site!.preserveHost, true)
  assert.deepEqual(denyPaths(reverse!.routes[0]!), ['/api/admin', '/api/internal'])
  const rules = reverseAccessOptions(reverse!).rules!
  assert.deepEqual(rules[0], { name: 'api:deny', action: 'deny', paths: ['/api/admin', '/api/internal'] })
  assert.deepEqual(rules[1], {
    name: 'api',
    action: 'allow',
    paths: ['/api'],
    rateLimit: { max: 10, timeWindow: 60_000, key: 'client' },
  })
  const match = routeMatcher(reverse!.routes)
  assert.equal(match('app.example.com', '/api/x')?.name, 'app.example.com/', 'a route with host wins')
  assert.equal(match('other', '/api/x')?.name, 'api')
  assert.equal(match('other', '/apix'), null)
})

test('a route without rewritePrefix sends its path upstream unchanged (nginx’s location + proxy_pass)', () => {
  const { reverse } = resolveConfig({
    reverse: { routes: [{ prefix: '/api', upstreams: ['http://127.0.0.1:1'] }] },
  })
  // The plugin's own default strips the prefix (@fastify/http-proxy's meaning): the gateway says otherwise.
  assert.equal(reverseProxyOptions(reverse!.routes).routes[0]!.rewritePrefix, '/api')
})
