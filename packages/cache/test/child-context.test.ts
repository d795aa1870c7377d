import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { request } from 'undici'
import cache from '../src/index.js'

// fastify-plugin puts the cache's hooks and decorator in the context it is registered in: inside a child
// context it caches that context's routes and no sibling's.
test('registered in a child context, the cache serves that context only; a sibling is untouched', async (t) => {
  const app = Fastify()
  const calls = { cached: 0, sibling: 0 }
  await app.register(
    async (ctx) => {
      await ctx.register(cache)
      ctx.get('/page', async (_req, reply) => {
        calls.cached++
        reply.header('cache-control', 'max-age=60')
        return 'cached context'
      })
    },
    { prefix: '/a' },
  )
  await app.register(
    async (ctx) => {
      ctx.get('/page', async (_req, reply) => {
        calls.sibling++
        reply.header('cache-control', 'max-age=60')
        return 'sibling'
      })
      assert.equal(ctx.hasDecorator('proxyCache'), false)
    },
    { prefix: '/b' },
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const get = async (path: string) => {
    const res = await request(`${base}${path}`)
    return { body: await res.body.text(), cacheStatus: res.headers['cache-status'] }
  }
  await get('/a/page')
  const hit = await get('/a/page')
  assert.equal(hit.body, 'cached context')
  assert.match(String(hit.cacheStatus), /hit/)
  assert.equal(calls.cached, 1)
  await get('/b/page')
  const sibling = await get('/b/page')
  assert.equal(sibling.cacheStatus, undefined)
  assert.equal(calls.sibling, 2)
  assert.equal(app.hasDecorator('proxyCache'), false)
})
