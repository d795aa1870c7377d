import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import type { ConnectGuard } from '@proxykit/core'
import { assertErrorBody } from '@proxykit/core/testing'
import Fastify, { type FastifyRequest } from 'fastify'
import accessControl, { type AccessControlOptions } from '../src/index.js'
import { forwardGet, send } from './helpers.js'

async function app(options: AccessControlOptions, extra: { trustProxy?: boolean } = {}) {
  const f = Fastify({ trustProxy: extra.trustProxy ?? false })
  await f.register(accessControl, options)
  f.get('/*', async (request) => request.proxy.access)
  f.get('/status', { config: { accessControl: false } }, async (request) => ({
    access: request.proxy.access,
  }))
  f.get(
    '/ops/*',
    {
      config: {
        accessControl: {
          rules: [{ name: 'ops-team', action: 'allow', clients: ['192.0.2.0/24'] }],
          defaultAction: 'deny',
        },
      },
    },
    async (request) => request.proxy.access,
  )
  await f.ready()
  return f
}

test('403 names the rule; exposeRule: false hides it; the decision is recorded on request.proxy.access', async (t) => {
  const rules: AccessControlOptions['rules'] = [
    { name: 'no-admin', action: 'deny', paths: ['/admin'] },
    { name: 'rest', action: 'allow' },
  ]
  const shown = await app({ rules })
  const hidden = await app({ rules, exposeRule: false })
  t.after(() => Promise.all([shown.close(), hidden.close()]))
  for (const path of [
    '/admin',
    '/ADMIN',
    '/%61dmin',
    '//admin',
    '/./admin',
    '/public/../admin',
    '/admin;x',
    '/admin/x?y',
  ]) {
    const res = await shown.inject(path)
    assert.equal(res.statusCode, 403, path)
    assertErrorBody(res.body, {
      statusCode: 403,
      code: 'PK_FORBIDDEN',
      message: 'Forbidden: denied by rule "no-admin"',
    })
  }
  const res = await hidden.inject('/admin')
  assert.equal(res.statusCode, 403)
  assertErrorBody(res.body, { statusCode: 403, code: 'PK_FORBIDDEN', message: 'Forbidden: access denied' })
  assert.deepEqual((await shown.inject('/administrator')).json(), {
    decision: 'allow',
    rule: 'rest',
    user: null,
  })
})

test('report-only mode records what it would have denied and lets the request through', async (t) => {
  const f = await app({ mode: 'report', rules: [{ name: 'no-admin', action: 'deny', paths: ['/admin'] }] })
  t.after(() => f.close())
  const res = await f.inject('/admin')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { decision: 'report', rule: 'no-admin', user: null })
  assert.deepEqual((await f.inject('/other')).json(), { decision: 'report', rule: 'default', user: null })
})

test('per-route rules come first; accessControl: false skips the route', async (t) => {
  const f = await app({ rules: [{ name: 'everyone', action: 'allow' }] }, { trustProxy: true })
  t.after(() => f.close())
  const from = (ip: string, url: string) => f.inject({ url, headers: { 'x-forwarded-for': ip } })
  assert.deepEqual((await from('192.0.2.9', '/ops/x')).json(), {
    decision: 'allow',
    rule: 'route:ops-team',
    user: null,
  })
  // no route rule matched: the plugin's rules decide (route default only replaces the plugin's default)
  assert.equal((await from('198.51.100.1', '/ops/x')).json().rule, 'everyone')
  assert.deepEqual((await f.inject('/status')).json(), { access: null })
})

test('client rules: X-Forwarded-For counts only when Fastify trusts the peer', async (t) => {
  const rules: AccessControlOptions['rules'] = [
    { name: 'lan', action: 'allow', clients: ['10.0.0.0/8', '::ffff:127.0.0.1'] },
  ]
  const trusting = await app({ rules }, { trustProxy: true })
  const strict = await app({ rules })
  t.after(() => Promise.all([trusting.close(), strict.close()]))
  const spoof = { 'x-forwarded-for': '10.1.1.1' }
  assert.equal((await trusting.inject({ url: '/', headers: spoof })).statusCode, 200)
  assert.equal(
    (await trusting.inject({ url: '/', headers: { 'x-forwarded-for': '192.0.2.1' } })).statusCode,
    403,
  )
  // not trusted: the peer (inject's 127.0.0.1, matched through its IPv4-mapped rule) is the client
  assert.equal(
    (await strict.inject({ url: '/', headers: { 'x-forwarded-for': '192.0.2.1' } })).statusCode,
    200,
  )
})

test('the connect guard re-decides on the address a forward request is about to reach', async (t) => {
  const f = Fastify()
  await f.register(accessControl, {
    rules: [
      { name: 'no-loopback-2', action: 'deny', destinations: ['127.0.0.2'] },
      { name: 'no-metadata', action: 'deny', addressClasses: ['metadata', 'linkLocal'] },
      { name: 'web', action: 'allow', hosts: ['.example.com'] },
      { name: 'lab', action: 'allow', destinations: ['127.0.0.3'] },
    ],
  })
  let guards: ConnectGuard[] = []
  let seen: FastifyRequest | null = null
  f.addHook('onRequest', async (request, reply) => {
    guards = request.proxy.connectGuards
    seen = request
    reply.send('captured')
  })
  await f.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => f.close())
  const port = (f.server.address() as AddressInfo).port
  const res = await send(port, forwardGet('http://www.example.com/x'))
  assert.equal(res.body.toString(), 'captured')
  assert.equal(guards.length, 1)
  const guard = guards[0]!
  assert.equal(guard('93.184.215.14', 4, seen!), null)
  assert.match(guard('127.0.0.2', 4, seen!) ?? '', /no-loopback-2/)
  assert.match(guard('169.254.169.254', 4, seen!) ?? '', /no-metadata/)
  assert.match(guard('fe80::1', 6, seen!) ?? '', /no-metadata/)
  assert.match(guard('not-an-address', 4, seen!) ?? '', /denied/)
  assert.equal(seen!.proxy.access?.decision, 'deny')
  // a literal address target is decided at once: no guard needed
  await send(port, forwardGet('http://127.0.0.3/x'))
  assert.equal(seen!.proxy.target?.hostname, '127.0.0.3')
  assert.equal(guards.length, 0)
})

test('bad route configuration fails at start, naming the route and field', async () => {
  const f = Fastify()
  await f.register(accessControl, { rules: [{ action: 'allow' }] })
  // onRoute runs as the route is added: the route is refused there
  assert.throws(() => {
    f.get(
      '/x',
      { config: { accessControl: { rules: [{ action: 'allow', clients: ['nope'] }] } } },
      async () => 'x',
    )
  }, /route GET \/x config\.accessControl\.rules\[0\]\.clients\[0\]: "nope" is not an IP address or CIDR/)
  await f.close()
})

test('a route declared before the plugin: its config is compiled on first use, and if bad the route is refused', async (t) => {
  const lines: string[] = []
  const f = Fastify({ logger: { level: 'error', stream: { write: (line: string) => lines.push(line) } } })
  let handled = 0
  f.get(
    '/early-bad',
    { config: { accessControl: { rules: [{ action: 'allow', clients: ['nope'] }] } } },
    async () => {
      handled++
      return 'ran'
    },
  )
  f.get(
    '/early-good',
    {
      config: { accessControl: { rules: [{ name: 'not-here', action: 'deny', clients: ['127.0.0.0/8'] }] } },
    },
    async () => {
      handled++
      return 'ran'
    },
  )
  await f.register(accessControl, { rules: [{ action: 'allow' }] })
  await f.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => f.close())
  const port = (f.server.address() as AddressInfo).port
  for (let i = 0; i < 2; i++) {
    const bad = await send(port, 'GET /early-bad HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
    assert.equal(bad.statusCode, 500)
    assertErrorBody(bad.body, {
      statusCode: 500,
      code: 'PK_INTERNAL',
      message: 'Internal error: invalid access-control configuration for this route',
    })
  }
  const good = await send(port, 'GET /early-good HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
  assert.equal(good.statusCode, 403)
  assert.match(good.body.toString(), /not-here/)
  assert.equal(handled, 0)
  // Logged once, naming the route and the field; the client's body says neither.
  const logged = lines.filter((l) => l.includes('invalid route configuration'))
  assert.equal(logged.length, 1)
  assert.match(logged[0]!, /route GET \/early-bad config\.accessControl\.rules\[0\]\.clients\[0\]/)
})

test('top-level options are checked at registration', async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ mode: 'audit' }, /mode: must be "enforce" or "report"/],
    [{ defaultAction: 'maybe' }, /defaultAction: must be "allow" or "deny"/],
    [{ rule: [] }, /options: unknown option "rule"/],
    [{ rateLimit: { redis: {} } }, /rateLimit\.redis: must be an ioredis client/],
    [{ rateLimit: { global: { max: 1 } } }, /rateLimit\.global\.timeWindow/],
    [
      { rules: [{ action: 'allow' }, { action: 'allow', users: ['a'] }] },
      /rules\[1\]: users and groups need the auth option/,
    ],
  ]
  for (const [options, message] of cases) {
    const f = Fastify()
    f.register(accessControl, options as AccessControlOptions)
    await assert.rejects(
      async () => {
        await f.ready()
      },
      { code: 'PK_INVALID_OPTION', message },
    )
    await f.close()
  }
})
