// Issue 25 item 1: what the forward proxy reads of Fastify's internals (src/internals.ts), against the real
// Fastify: a context's request-id generator lives under a symbol described 'fastify.genReqId', inherited
// by child contexts, and a generator set on a child context is the one its routes' requests get, even
// when the client sends the request-id header (which Fastify's public setter would honour first).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { genReqIdSymbol, getGenReqId, setGenReqId } from '../src/internals.js'

test("Fastify keeps a context's request-id generator under 'fastify.genReqId', used by its routes", async (t) => {
  const app = Fastify({ genReqId: () => 'from-app' })
  t.after(() => app.close())
  const key = genReqIdSymbol(app)
  assert.ok(key !== null, "Fastify's 'fastify.genReqId' symbol is gone")
  assert.equal(getGenReqId(app, key)({} as never), 'from-app')
  await app.register(async (child) => {
    assert.equal(genReqIdSymbol(child), key, 'a child context inherits it')
    setGenReqId(child, key, (raw) => `child:${raw.url}`)
    child.get('/in-child', async (request) => request.id)
  })
  app.get('/in-app', async (request) => request.id)
  assert.equal((await app.inject('/in-child')).body, 'child:/in-child')
  assert.equal(
    (await app.inject({ url: '/in-child', headers: { 'request-id': 'client' } })).body,
    'child:/in-child',
    "the context's generator is called even when the client sends a request id",
  )
  assert.equal((await app.inject('/in-app')).body, 'from-app', 'the parent keeps its own')
})
