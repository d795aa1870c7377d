// A bearer check that answers at once (the gateway's, for a token it verified before) is decided in the
// same turn as the request's first hook: no promise and no microtask between access control and the next
// hook, which an async authenticate() cost every such request. A check that answers with a promise is
// still waited for.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify, { type FastifyRequest } from 'fastify'
import accessControl from '../src/index.js'

const kMicrotaskRan = Symbol('microtaskRan')
type Marked = FastifyRequest & { [kMicrotaskRan]?: boolean }

test('a bearer check answering at once lets the next hook run in the same turn', async (t) => {
  const f = Fastify()
  // Before access control: a microtask that marks the request once the current turn is over.
  f.addHook('onRequest', (request, _reply, done) => {
    queueMicrotask(() => {
      ;(request as Marked)[kMicrotaskRan] = true
    })
    done()
  })
  await f.register(accessControl, { defaultAction: 'allow' })
  const sameTurn: boolean[] = []
  f.addHook('onRequest', (request, _reply, done) => {
    sameTurn.push((request as Marked)[kMicrotaskRan] !== true)
    done()
  })
  const known = (token: string) => (token === 'known-token' ? { user: 'alice', groups: ['staff'] } : null)
  const later = async (token: string) => (token === 'later-token' ? { user: 'bob' } : null)
  const echo = async (request: FastifyRequest) => request.proxy.access
  f.get('/now', { config: { accessControl: { auth: { bearer: known, required: true } } } }, echo)
  f.get('/later', { config: { accessControl: { auth: { bearer: later, required: true } } } }, echo)
  await f.ready()
  t.after(() => f.close())

  const now = await f.inject({ url: '/now', headers: { authorization: 'Bearer known-token' } })
  assert.equal(now.statusCode, 200)
  assert.deepEqual(now.json(), { decision: 'allow', rule: 'default', user: 'alice' })
  assert.deepEqual(sameTurn, [true], 'decided without waiting for a microtask')

  const refused = await f.inject({ url: '/now', headers: { authorization: 'Bearer unknown' } })
  assert.equal(refused.statusCode, 401)
  assert.equal(sameTurn.length, 1, 'a refused request goes no further')

  const waited = await f.inject({ url: '/later', headers: { authorization: 'Bearer later-token' } })
  assert.equal(waited.statusCode, 200)
  assert.equal(waited.json().user, 'bob')
  assert.deepEqual(sameTurn, [true, false], 'a promise is waited for')
  assert.equal((await f.inject({ url: '/later', headers: { authorization: 'Bearer nope' } })).statusCode, 401)
})
