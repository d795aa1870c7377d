import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { request } from 'undici'
import accessControl from '../src/index.js'

// fastify-plugin puts the rules' onRequest hook in the context the plugin is registered in: two sibling
// contexts with different rules each decide their own routes only.
test('sibling contexts with their own access control decide their own routes, and nothing leaks', async (t) => {
  const app = Fastify()
  await app.register(
    async (ctx) => {
      await ctx.register(accessControl, {
        rules: [{ name: 'deny-secret', action: 'deny', paths: ['/a/secret'] }],
        defaultAction: 'allow',
      })
      ctx.get('/secret', async () => 'a secret')
      ctx.get('/open', async () => 'a open')
    },
    { prefix: '/a' },
  )
  await app.register(
    async (ctx) => {
      await ctx.register(accessControl, { defaultAction: 'deny' })
      ctx.get('/secret', async () => 'b secret')
    },
    { prefix: '/b' },
  )
  app.get('/root', async () => 'root')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const status = async (path: string) => {
    const res = await request(`${base}${path}`)
    await res.body.text()
    return res.statusCode
  }
  assert.equal(await status('/a/secret'), 403)
  assert.equal(await status('/a/open'), 200)
  assert.equal(await status('/b/secret'), 403, "b's default deny")
  assert.equal(await status('/root'), 200, 'the root context has no rules')
})
