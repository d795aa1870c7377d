// A connection's last Authorization value is parsed once (request-auth.ts): on one keep-alive connection,
// each request is still judged by its own header, byte for byte. A token one character off, a malformed
// one, Basic credentials and no header at all, in turn with the good token, are each answered as alone.
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import Fastify, { type FastifyRequest } from 'fastify'
import { Pool } from 'undici'
import accessControl from '../src/index.js'

test('one connection, each request judged by its own credentials', async (t) => {
  const f = Fastify()
  await f.register(accessControl, { defaultAction: 'allow' })
  const seen: string[] = []
  const bearer = (token: string) => {
    seen.push(token)
    return token === 'good-token' ? { user: 'alice' } : null
  }
  f.get(
    '/',
    { config: { accessControl: { auth: { bearer, required: true } } } },
    async (request: FastifyRequest) => ({
      user: request.proxy.access?.user ?? null,
      socket: `${request.raw.socket.remotePort}`,
    }),
  )
  await f.listen({ host: '127.0.0.1', port: 0 })
  t.after(() => f.close())
  const pool = new Pool(`http://127.0.0.1:${(f.server.address() as AddressInfo).port}`, { connections: 1 })
  t.after(() => pool.close())
  const get = async (authorization?: string) => {
    const res = await pool.request({
      path: '/',
      method: 'GET',
      headers: authorization === undefined ? {} : { authorization },
    })
    const body = await res.body.text()
    return { status: res.statusCode, body: res.statusCode === 200 ? JSON.parse(body) : null }
  }
  const sockets = new Set<string>()
  const good = async () => {
    const r = await get('Bearer good-token')
    assert.equal(r.status, 200)
    assert.equal(r.body.user, 'alice')
    sockets.add(r.body.socket)
  }
  await good()
  await good()
  assert.equal((await get('Bearer good-tokeN')).status, 401, 'one character off')
  await good()
  assert.equal((await get('Bearer good token')).status, 401, 'not a token68: malformed')
  await good()
  assert.equal((await get('Basic YWxpY2U6cHc=')).status, 401, 'Basic, where only tokens are taken')
  await good()
  assert.equal((await get()).status, 401, 'none: required')
  await good()
  assert.equal(sockets.size, 1, 'every request on one connection')
  assert.deepEqual(
    seen.filter((s) => s !== 'good-token'),
    ['good-tokeN'],
    'the bearer check saw each token',
  )
})
