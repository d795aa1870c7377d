import assert from 'node:assert/strict'
import { test } from 'node:test'
import httpProxy from '@fastify/http-proxy'
import { startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import { request } from 'undici'
import accessControl, { hashPassword } from '../src/index.js'
import { basic } from './helpers.js'

test('access control in front of @fastify/http-proxy routes: denials are made before the upstream sees anything', async (t) => {
  const origin = await startOrigin()
  const app = Fastify()
  await app.register(accessControl, {
    rules: [
      { name: 'no-admin', action: 'deny', paths: ['/api/admin'] },
      { name: 'members', action: 'allow', users: ['*'], paths: ['/api/private'] },
    ],
    auth: { users: { erin: await hashPassword('pw', { N: 1024 }) } },
    rateLimit: { global: { max: 3, timeWindow: 60_000, key: 'client' } },
    defaultAction: 'allow',
  })
  await app.register(httpProxy, { upstream: origin.url, prefix: '/api' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => Promise.all([app.close(), origin.close()]))
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${base}${path}`, { headers })
    await res.body.text()
    return res.statusCode
  }

  assert.equal(await get('/api/admin/users'), 403)
  assert.equal(await get('/api/private/page'), 401)
  assert.equal(origin.hits, 0)
  assert.equal(await get('/api/private/page', { authorization: basic('erin', 'pw') }), 200)
  assert.equal(origin.requests[0]!.url, '/private/page')
  assert.equal(
    origin.requests[0]!.headers.authorization,
    undefined,
    'credentials meant for the proxy stay here',
  )
  assert.equal(await get('/api/open'), 200)
  assert.equal(await get('/api/open'), 200)
  assert.equal(await get('/api/open'), 429, 'the fourth allowed request within the window')
  assert.equal(origin.hits, 3)
})
