import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import reverseProxy from '@proxykit/reverse-proxy'
import Fastify from 'fastify'
import { request } from 'undici'
import accessControl, { hashPassword } from '../src/index.js'
import { basic } from './helpers.js'

test('behind the reverse proxy: path rules and credentials are settled before the origin sees anything', async (t) => {
  const origin = await startOrigin()
  const app = Fastify()
  await app.register(accessControl, {
    rules: [
      { name: 'no-admin', action: 'deny', paths: ['/admin'] },
      { name: 'members', action: 'allow', users: ['*'], paths: ['/private'] },
      { name: 'public', action: 'allow', forms: ['origin'] },
    ],
    auth: {
      users: { erin: await hashPassword('pw', { N: 1024 }) },
      tokens: { 'key-0123456789abcdef': 'svc' },
    },
  })
  await app.register(reverseProxy, { routes: [{ name: 'site', prefix: '/', upstreams: [origin.url] }] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => Promise.all([app.close(), origin.close()]))
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${base}${path}`, { headers })
    await res.body.text()
    return res.statusCode
  }

  for (const path of ['/admin', '/ADMIN/x', '/%61dmin', '//admin', '/public/../admin', '/admin;x'])
    assert.equal(await get(path), 403, path)
  assert.equal(await get('/private/page'), 401)
  assert.equal(await get('/private/page', { authorization: basic('erin', 'nope') }), 401)
  assert.equal(origin.hits, 0)

  assert.equal(await get('/public'), 200)
  assert.equal(await get('/private/page', { authorization: basic('erin', 'pw') }), 200)
  assert.equal(await get('/private/page', { 'x-api-key': 'key-0123456789abcdef' }), 200)
  assert.equal(origin.hits, 3)
  for (const seen of origin.requests) {
    assert.equal(seen.headers.authorization, undefined)
    assert.equal(seen.headers['x-api-key'], undefined)
    assert.ok(!seen.rawHeaders.some((h) => /cHc=|ZXJpbjpwdw==|key-0123/.test(h)), seen.rawHeaders.join('|'))
  }
})
