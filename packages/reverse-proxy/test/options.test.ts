import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import reverseProxy, { DEFAULT_PASSIVE_HEALTH, resolveOptions } from '../src/index.js'

const bad: Array<[unknown, RegExp]> = [
  [undefined, /options: must be an object/],
  [{ routes: [] }, /routes: must be a non-empty array/],
  [{ routes: [{ upstreams: [] }] }, /routes\[0\]\.upstreams: must be a non-empty array/],
  [
    { routes: [{ upstreams: ['http://a:1'] }, { upstreams: ['ftp://x'] }] },
    /routes\[1\]\.upstreams\[0\]: must be an http\(s\) URL/,
  ],
  [
    { routes: [{ upstreams: [{ url: 'nope' }] }] },
    /routes\[0\]\.upstreams\[0\]\.url: must be an http\(s\) URL/,
  ],
  [{ routes: [{ upstreams: ['http://a:1/path'] }] }, /routes\[0\]\.upstreams\[0\]: must be an origin/],
  [
    { routes: [{ upstreams: [{ url: 'http://a:1', weight: 0 }] }] },
    /routes\[0\]\.upstreams\[0\]\.weight: must be an integer >= 1/,
  ],
  [
    { routes: [{ upstreams: ['http://a:1', 'http://A:1/'] }] },
    /routes\[0\]\.upstreams\[1\]: duplicates http:\/\/a:1/,
  ],
  [{ routes: [{ prefix: 'api', upstreams: ['http://a:1'] }] }, /routes\[0\]\.prefix: must be a path/],
  [
    { routes: [{ balancer: 'random', upstreams: ['http://a:1'] }] },
    /routes\[0\]\.balancer: must be one of round-robin/,
  ],
  [{ routes: [{ hashOn: 'body', upstreams: ['http://a:1'] }] }, /routes\[0\]\.hashOn: must be 'ip', 'path'/],
  [
    { routes: [{ healthCheck: { rise: 0 }, upstreams: ['http://a:1'] }] },
    /routes\[0\]\.healthCheck\.rise: must be an integer >= 1/,
  ],
  [
    { routes: [{ timeouts: { headers: -1 }, upstreams: ['http://a:1'] }] },
    /routes\[0\]\.timeouts\.headers: must be an integer/,
  ],
  [
    { routes: [{ host: 'a.test:80', upstreams: ['http://a:1'] }] },
    /routes\[0\]\.host: must be a hostname without port/,
  ],
  [
    { routes: [{ host: ['a.test', '*.b.test:80'], upstreams: ['http://a:1'] }] },
    /routes\[0\]\.host\[1\]: must be a hostname without port, or '\*\.' and a domain/,
  ],
  [{ routes: [{ host: [], upstreams: ['http://a:1'] }] }, /routes\[0\]\.host: must not be an empty list/],
  [
    { routes: [{ rewritePath: '/x', upstreams: ['http://a:1'] }] },
    /routes\[0\]\.rewritePath: must be a function/,
  ],
  [
    { routes: [{ upstreams: ['http://a:1'] }, { upstreams: ['http://b:1'] }] },
    /routes\[1\]\.name: duplicates the route name '\/'/,
  ],
  [
    { passiveHealth: { ejectMs: 10, maxEjectMs: 5 }, routes: [{ upstreams: ['http://a:1'] }] },
    /passiveHealth\.maxEjectMs: must be >= ejectMs/,
  ],
  [
    { routes: [{ upstreams: ['http://a:1'], passiveHealth: { statuses: [500, 'x'] } }] },
    /routes\[0\]\.passiveHealth\.statuses: must be a list of status codes/,
  ],
  [
    { routes: [{ upstreams: ['http://a:1'], passive: { failures: 2 } }] },
    /routes\[0\]\.passive: is now passiveHealth/,
  ],
  [
    { retries: { budgetRatio: 2 }, routes: [{ upstreams: ['http://a:1'] }] },
    /retries\.budgetRatio: must be a number from 0 to 1/,
  ],
  [{ hideHeaders: 'server', routes: [{ upstreams: ['http://a:1'] }] }, /hideHeaders: must be an array/],
  [{ trustProxy: {}, routes: [{ upstreams: ['http://a:1'] }] }, /trustProxy: must be/],
]

test('every invalid option is refused at registration with a message naming it', async () => {
  for (const [input, message] of bad) {
    assert.throws(() => resolveOptions(input), { code: 'PK_INVALID_OPTION', message }, JSON.stringify(input))
  }
  const app = Fastify()
  app.register(reverseProxy, { routes: [{ upstreams: ['gopher://x'] }] })
  await assert.rejects(
    async () => {
      await app.ready()
    },
    { code: 'PK_INVALID_OPTION', option: 'routes[0].upstreams[0]', message: /must be an http\(s\) URL/ },
  )
})

test('route settings inherit plugin defaults, and routes override them', () => {
  const o = resolveOptions({
    balancer: 'least-in-flight',
    timeouts: { headers: 1000 },
    passiveHealth: false,
    routes: [
      { upstreams: ['http://a:1'] },
      { name: 'b', timeouts: { connect: 50 }, passiveHealth: {}, upstreams: ['http://b:1'] },
    ],
  })
  assert.equal(o.routes[0]!.balancer, 'least-in-flight')
  assert.deepEqual(o.routes[0]!.timeouts, { connect: 5000, headers: 1000, idle: 60000 })
  assert.equal(o.routes[0]!.passiveHealth, false)
  assert.deepEqual(o.routes[1]!.timeouts, { connect: 50, headers: 1000, idle: 60000 })
  assert.deepEqual(o.routes[1]!.passiveHealth, DEFAULT_PASSIVE_HEALTH)
  assert.deepEqual(o.hideHeaders, ['server', 'x-powered-by'])
  assert.equal(
    resolveOptions({ routes: [{ upstreams: ['http://a:1'] }], hideHeaders: [] }).hideHeaders.length,
    0,
  )
})
