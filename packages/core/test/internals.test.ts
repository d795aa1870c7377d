// Issue 25 item 1: what core reads of other libraries' internals (src/internals.ts), against the real
// libraries. Each read has a public fallback, so a Fastify or Node upgrade that changes one would only
// cost speed silently: this fails instead, naming what moved.
import assert from 'node:assert/strict'
import { ServerResponse } from 'node:http'
import { test } from 'node:test'
import Fastify from 'fastify'
import { rawWriter, replyHeaderTable, routeContext } from '../src/internals.js'

test("Fastify's route context is on the request, with the route's config and bound onSend hooks", async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  let checked = false
  app.get(
    '/x',
    {
      config: { marker: 'route-x' },
      onSend: function ownOnSend(_request, _reply, payload, done) {
        done(null, payload)
      },
    },
    async (request) => {
      const context = routeContext(request)
      assert.ok(context !== null, "Fastify's 'fastify.context' symbol is not on the request any more")
      assert.equal(
        context.config,
        request.routeOptions.config,
        'its config is what routeOptions.config returns',
      )
      assert.equal((context.config as { marker?: string }).marker, 'route-x')
      assert.ok(Array.isArray(context.onSend), 'onSend is an array of the route hooks')
      assert.deepEqual(
        context.onSend!.map((h) => h.name),
        ['bound ownOnSend'],
        'hooks keep their name as Fastify binds them',
      )
      checked = true
      return 'ok'
    },
  )
  app.get('/none', async (request) => {
    assert.equal(routeContext(request)!.onSend, null, 'a route with no onSend hook has null')
    return 'ok'
  })
  assert.equal((await app.inject('/x')).statusCode, 200)
  assert.equal((await app.inject('/none')).statusCode, 200)
  assert.ok(checked)
})

test("Fastify's reply header table is the live object reply.header() writes, lower-case", async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  app.get('/', async (_request, reply) => {
    reply.header('X-One', '1')
    const table = replyHeaderTable(reply)
    assert.ok(table !== null, "Fastify's 'fastify.reply.headers' symbol is not on the reply any more")
    assert.equal(table['x-one'], '1')
    reply.header('x-two', '2')
    assert.equal(table['x-two'], '2', 'the same object, not a copy')
    assert.deepEqual({ ...table }, { ...reply.getHeaders() })
    return 'ok'
  })
  const res = await app.inject('/')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['x-two'], '2')
})

test("Node's ServerResponse keeps its raw write (what writeEarlyHints uses)", () => {
  assert.equal(typeof (ServerResponse.prototype as unknown as { _writeRaw?: unknown })._writeRaw, 'function')
  const res = new ServerResponse({ method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1 } as never)
  assert.equal(typeof rawWriter(res), 'function')
})
