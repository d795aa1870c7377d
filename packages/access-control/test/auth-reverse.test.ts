import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import bcrypt from 'bcryptjs'
import Fastify from 'fastify'
import accessControl, { hashPassword } from '../src/index.js'
import { basic } from './helpers.js'

async function app(options: Parameters<typeof accessControl>[1], t: { after(fn: () => unknown): void }) {
  const f = Fastify()
  await f.register(accessControl, options)
  // What the handler sees is what a reverse proxy would pass on.
  f.get('/*', async (request) => ({ headers: request.headers, access: request.proxy.access }))
  await f.ready()
  t.after(() => f.close())
  return f
}

test('origin-form: 401 + WWW-Authenticate without or with wrong Authorization; consumed credentials removed', async (t) => {
  const f = await app(
    {
      rules: [
        { name: 'members', action: 'allow', users: ['*'], paths: ['/members'] },
        { action: 'allow', paths: ['/'] },
      ],
      auth: {
        realm: 'site',
        users: { carol: { password: await hashPassword('pw', { N: 1024 }), groups: ['x'] } },
      },
    },
    t,
  )
  const open = await f.inject('/public')
  assert.equal(open.statusCode, 200)
  const missing = await f.inject('/members/page')
  assert.equal(missing.statusCode, 401)
  assert.match(missing.headers['www-authenticate'] as string, /^Basic realm="site"/)
  assert.equal(missing.headers['proxy-authenticate'], undefined)
  const wrong = await f.inject({ url: '/members/page', headers: { authorization: basic('carol', 'no') } })
  assert.equal(wrong.statusCode, 401)
  // Proxy-Authorization does not authenticate on origin-form
  const proxyHeader = await f.inject({
    url: '/members/page',
    headers: { 'proxy-authorization': basic('carol', 'pw') },
  })
  assert.equal(proxyHeader.statusCode, 401)
  const ok = await f.inject({ url: '/MEMBERS/page', headers: { authorization: basic('carol', 'pw') } })
  assert.equal(ok.statusCode, 200)
  const body = ok.json()
  assert.equal(body.headers.authorization, undefined)
  assert.deepEqual(body.access, { decision: 'allow', rule: 'members', user: 'carol' })
})

test('bcrypt hashes including $2y$ (htpasswd -B), an htpasswd file ($apr1$, {SHA}), a verify function', async (t) => {
  const y = bcrypt.hashSync('apple', 4).replace(/^\$2[ab]\$/, '$2y$')
  const dir = mkdtempSync(join(tmpdir(), 'ac-htpasswd-'))
  const file = join(dir, 'htpasswd')
  // $apr1$ and {SHA} lines as `htpasswd` (default) and `htpasswd -s` write them (checked against openssl)
  const lines = [
    '# users',
    `file-user:${y}`,
    `scrypt-user:${await hashPassword('pear', { N: 1024 })}`,
    'apr-user:$apr1$r31.....$ARC3pREO82RIm0aQ2zszC0',
    'sha-user:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=',
  ]
  writeFileSync(file, `${lines.join('\n')}\n`)
  const f = await app(
    {
      rules: [{ action: 'allow', users: ['*'] }],
      auth: {
        users: { dave: y },
        htpasswd: file,
        verify: (user, password) =>
          user === 'fn' && password === 'plum' ? { user: 'fn', groups: [] } : false,
      },
    },
    t,
  )
  const status = async (user: string, pw: string) =>
    (await f.inject({ url: '/', headers: { authorization: basic(user, pw) } })).statusCode
  assert.equal(await status('dave', 'apple'), 200)
  assert.equal(await status('dave', 'Apple'), 401)
  assert.equal(await status('file-user', 'apple'), 200)
  assert.equal(await status('scrypt-user', 'pear'), 200)
  assert.equal(await status('scrypt-user', 'apple'), 401)
  assert.equal(await status('apr-user', 'password'), 200)
  assert.equal(await status('apr-user', 'passwore'), 401)
  assert.equal(await status('sha-user', 'password'), 200)
  assert.equal(await status('sha-user', 'Password'), 401)
  assert.equal(await status('fn', 'plum'), 200)
  assert.equal(await status('fn', 'pear'), 401)
  assert.equal(await status('nobody', 'apple'), 401)
})

test('API keys and bearer tokens on origin-form; the key header is removed once consumed', async (t) => {
  const key = 'k_abcdefghijklmnopqrstuvwxyz'
  const hashed = `sha256:${createHash('sha256').update('second-key-000000').digest('hex')}`
  const f = await app(
    {
      rules: [{ action: 'allow', users: ['svc', 'svc2'] }],
      auth: { tokens: { [key]: 'svc', [hashed]: 'svc2' } },
    },
    t,
  )
  const viaHeader = await f.inject({ url: '/', headers: { 'x-api-key': key } })
  assert.equal(viaHeader.statusCode, 200)
  assert.equal(viaHeader.json().headers['x-api-key'], undefined)
  assert.equal((await f.inject({ url: '/', headers: { authorization: `Bearer ${key}` } })).statusCode, 200)
  assert.equal(
    (await f.inject({ url: '/', headers: { authorization: 'Bearer second-key-000000' } })).statusCode,
    200,
  )
  assert.equal((await f.inject({ url: '/', headers: { 'x-api-key': 'k_wrong' } })).statusCode, 401)
  assert.equal((await f.inject({ url: '/' })).statusCode, 401)
})

test('auth configuration errors name the field', async () => {
  const cases: Array<[object, RegExp]> = [
    [{ users: { a: 'plaintext' } }, /auth\.users\.a: not a supported password hash/],
    [{ users: { a: 'scrypt$1000$8$1$c2FsdA$aGFzaA' } }, /power of two/],
    [{ htpasswd: '/nonexistent/htpasswd' }, /auth\.htpasswd: cannot read/],
    [{ tokens: { short: 'x' } }, /at least 16 characters/],
    [{}, /auth: needs users, htpasswd, tokens, verify, bearer or delegate/],
    [{ realm: 'a"b', verify: () => true }, /auth\.realm/],
    [{ verify: () => true, bogus: 1 }, /auth: unknown option "bogus"/],
  ]
  for (const [auth, message] of cases) {
    const f = Fastify()
    f.register(accessControl, { auth } as never)
    await assert.rejects(
      async () => {
        await f.ready()
      },
      message,
      JSON.stringify(auth),
    )
    await f.close()
  }
})
