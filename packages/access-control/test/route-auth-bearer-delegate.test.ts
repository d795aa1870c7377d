// A route's own `auth` in config.accessControl: a `bearer` check (a JWT verifier's shape) whose claims
// are recorded, a `delegate` (forward auth's shape) whose refusal is sent as it is, and a route `mode:
// 'report'` that lets the same refusal through while the sibling route enforces it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import accessControl from '../src/index.js'

test('route auth: bearer claims recorded, a delegate refusal answered as it is, report mode per route', async (t) => {
  const f = Fastify()
  await f.register(accessControl, { defaultAction: 'allow' })
  const bearer = async (token: string) =>
    token === 'good-token'
      ? { user: 'alice', groups: ['staff'], claims: { sub: 'alice', tier: 'gold' } }
      : null
  const delegate = async (request: { headers: Record<string, unknown> }) =>
    request.headers.cookie === 'ok'
      ? { user: 'bob' }
      : { answer: { statusCode: 302, headers: { location: '/login' }, body: 'log in\n' } }
  const echo = async (request: { proxy: unknown }) => (request as { proxy: { access: unknown } }).proxy.access
  f.get(
    '/jwt',
    {
      config: {
        accessControl: { auth: { bearer, required: true }, rules: [{ action: 'allow', groups: ['staff'] }] },
      },
    },
    echo,
  )
  f.get('/fwd', { config: { accessControl: { auth: { delegate } } } }, echo)
  f.get('/fwd-report', { config: { accessControl: { auth: { delegate }, mode: 'report' } } }, echo)
  f.get('/open', echo)
  await f.ready()
  t.after(() => f.close())

  const ok = await f.inject({ url: '/jwt', headers: { authorization: 'Bearer good-token' } })
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json(), {
    decision: 'allow',
    rule: 'route:#0',
    user: 'alice',
    claims: { sub: 'alice', tier: 'gold' },
  })
  const bad = await f.inject({ url: '/jwt', headers: { authorization: 'Bearer bad-token' } })
  assert.equal(bad.statusCode, 401)
  assert.equal(bad.headers['www-authenticate'], 'Bearer realm="proxykit"', 'no Basic login dialog for tokens')
  assert.equal((await f.inject('/jwt')).statusCode, 401, 'required')

  const passed = await f.inject({ url: '/fwd', headers: { cookie: 'ok' } })
  assert.equal(passed.json().user, 'bob')
  const refused = await f.inject('/fwd')
  assert.equal(refused.statusCode, 302)
  assert.equal(refused.headers.location, '/login')
  assert.equal(refused.body, 'log in\n')
  const reported = await f.inject('/fwd-report')
  assert.equal(reported.statusCode, 200, 'report mode lets it through')
  assert.equal(
    (await f.inject({ url: '/open', headers: { authorization: 'Bearer bad-token' } })).statusCode,
    200,
  )
})
