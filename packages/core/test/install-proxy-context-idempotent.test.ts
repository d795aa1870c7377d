// Every plugin calls installProxyContext first; registered together they must share one decorator and one
// classifying hook, and each must work alone.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify, { type FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import proxyContext, { installProxyContext } from '../src/index.js'

// Two stand-ins for proxykit plugins. A's own onRequest hook writes a slice of the context; if B's call
// installed a second classifying hook, it would run after A's and replace the context, losing the slice.
const pluginA: FastifyPluginAsync = async (fastify) => {
  installProxyContext(fastify)
  fastify.addHook('onRequest', async (request) => {
    request.proxy.direction = 'forward'
  })
}
const pluginB: FastifyPluginAsync = async (fastify) => {
  installProxyContext(fastify)
  fastify.get('/b', async (request) => ({ direction: request.proxy.direction, form: request.proxy.form }))
}
const a = fp(pluginA, { name: 'test-a', fastify: '5.x' })
const b = fp(pluginB, { name: 'test-b', fastify: '5.x' })

test('two plugins calling installProxyContext share one decorator and one hook', async (t) => {
  const fastify = Fastify()
  t.after(() => fastify.close())
  await fastify.register(a)
  await fastify.register(b)
  installProxyContext(fastify) // a third call is a no-op too
  await fastify.register(proxyContext) // and so is the plugin form
  const res = await fastify.inject('/b')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { direction: 'forward', form: 'origin' })
})

test('each plugin works registered alone', async (t) => {
  const onlyB = Fastify()
  t.after(() => onlyB.close())
  await onlyB.register(b)
  assert.deepEqual((await onlyB.inject('/b')).json(), { direction: null, form: 'origin' })

  const onlyA = Fastify()
  t.after(() => onlyA.close())
  await onlyA.register(a)
  onlyA.get('/a', async (request) => request.proxy.direction)
  assert.equal((await onlyA.inject('/a')).body, 'forward')
})

test('an encapsulated child after the root installed it reuses the root’s context', async (t) => {
  const fastify = Fastify()
  t.after(() => fastify.close())
  installProxyContext(fastify)
  await fastify.register(async (child) => {
    installProxyContext(child)
    child.addHook('onRequest', async (request) => {
      request.proxy.cache = 'child'
    })
    child.get('/child', async (request) => ({ cache: request.proxy.cache, host: request.proxy.host }))
  })
  const res = await fastify.inject({ url: '/child', headers: { host: 'Example.TEST:8080' } })
  assert.deepEqual(res.json(), { cache: 'child', host: 'example.test' })
})

test('the context is a fresh object per request', async (t) => {
  const fastify = Fastify()
  t.after(() => fastify.close())
  await fastify.register(proxyContext)
  const seen: unknown[] = []
  fastify.get('/', async (request) => {
    seen.push(request.proxy)
    request.proxy.responseFilters.push(() => {})
    return request.proxy.responseFilters.length
  })
  assert.equal((await fastify.inject('/')).body, '1')
  assert.equal((await fastify.inject('/')).body, '1')
  assert.notEqual(seen[0], seen[1])
})
