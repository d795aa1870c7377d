import assert from 'node:assert/strict'
import { test } from 'node:test'
import accessControl from '@proxykit/access-control'
import cache, { MemoryStore } from '@proxykit/cache'
import forwardProxy from '@proxykit/forward-proxy'
import reverseProxy from '@proxykit/reverse-proxy'
import httpProxy from '@proxykit/reverse-proxy/http-proxy'
import Fastify, { type FastifyPluginAsync } from 'fastify'

// Issue 25 item 5: every plugin reports a bad option the same way, so the gateway (and any app) catches
// one code: PK_INVALID_OPTION, a TypeError whose `option` is the path and whose message names the plugin.
// Before, access-control threw a ConfigError, the others TypeErrors in three message shapes, none coded.
const cases: Array<[string, FastifyPluginAsync<any>, unknown, string]> = [
  ['@proxykit/forward-proxy', forwardProxy, { connectTimeout: 0 }, 'connectTimeout'],
  [
    '@proxykit/reverse-proxy',
    reverseProxy,
    { routes: [{ upstreams: ['http://127.0.0.1:1'], retries: -1 }] },
    'routes[0].retries',
  ],
  [
    '@proxykit/reverse-proxy/http-proxy',
    httpProxy,
    { upstream: 'http://127.0.0.1:1', httpMethods: [] },
    'httpMethods',
  ],
  ['@proxykit/cache', cache, { collapseTimeout: 0 }, 'collapseTimeout'],
  [
    '@proxykit/access-control',
    accessControl,
    { rules: [{ action: 'allow', ports: [70000] }] },
    'rules[0].ports[0]',
  ],
]

for (const [plugin, register, options, option] of cases) {
  test(`${plugin} refuses a bad option with PK_INVALID_OPTION naming ${option}`, async (t) => {
    const app = Fastify()
    t.after(() => app.close().catch(() => {}))
    app.register(register, options as never)
    await assert.rejects(
      async () => app.ready(),
      (err: Error & { code?: string; option?: string; plugin?: string }) => {
        assert.ok(err instanceof TypeError, String(err))
        assert.equal(err.code, 'PK_INVALID_OPTION', String(err))
        assert.equal(err.plugin, plugin)
        assert.equal(err.option, option)
        assert.ok(err.message.startsWith(`${plugin}: ${option}: `), err.message)
        return true
      },
    )
  })
}

test("a route's config is checked the same way when the route is declared", async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(cache)
  await app.register(accessControl, { defaultAction: 'allow' })
  assert.throws(() => app.get('/a', { config: { cache: { ttl: -1 } } }, async () => 'a'), {
    code: 'PK_INVALID_OPTION',
    option: 'route /a: config.cache.ttl',
  })
  assert.throws(() => app.get('/b', { config: { accessControl: { nope: 1 } as never } }, async () => 'b'), {
    code: 'PK_INVALID_OPTION',
    option: 'route GET /b config.accessControl',
  })
  assert.throws(() => new MemoryStore({ maxSize: 0 }), { code: 'PK_INVALID_OPTION', option: 'maxSize' })
})
