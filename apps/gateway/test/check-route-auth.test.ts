// Issue 27 items 3-5: `--check` hides a route's password hashes (inline and from its htpasswd file) and its
// JWT secret, and refuses auth, rules and answer-plugin settings it could only fail on later, naming each.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCli, writeConfig } from './helpers/cli.js'

const BCRYPT = '$2b$10$abcdefghijklmnopqrstuuO9bX1c5yFq3LXy1qHqvFq0C7F0nMqKq'
const SECRET = 'a-jwt-secret-of-at-least-32-characters!'

test('--check prints <set> for route password hashes and JWT secrets', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pk-check-auth-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const htpasswd = join(dir, 'htpasswd')
  const fileHash = '$2y$05$ABCDEFGHIJKLMNOPQRSTUuO9bX1c5yFq3LXy1qHqvFq0C7F0nMqKq'
  await writeFile(htpasswd, `bob:${fileHash}\n`)
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          prefix: '/a',
          upstreams: ['http://127.0.0.1:9'],
          auth: { basic: { users: { alice: BCRYPT }, htpasswd } },
        },
        { prefix: '/b', upstreams: ['http://127.0.0.1:9'], auth: { jwt: { secret: SECRET } } },
      ],
    },
  })
  const r = await runCli(['--check', '--config', file])
  assert.equal(r.code, 0, r.stderr)
  for (const secret of [BCRYPT, fileHash, SECRET]) assert.ok(!r.stdout.includes(secret), `printed ${secret}`)
  const routes = JSON.parse(r.stdout).reverse.routes
  assert.deepEqual(Object.keys(routes[0].auth.basic.users), ['alice', 'bob'], 'the file’s users are read')
  assert.equal(routes[0].auth.basic.users.bob.password, '<set>')
  assert.equal(routes[1].auth.jwt.secret, '<set>')
})

test('--check names each bad auth, rules, cors and compress setting', async (t) => {
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      rules: [{ action: 'allow', clients: ['10.0.0.300'] }],
      routes: [
        {
          prefix: '/a',
          upstreams: ['http://127.0.0.1:9'],
          auth: { basic: { htpasswd: '/nonexistent/htpasswd' } },
        },
        { prefix: '/b', upstreams: ['http://127.0.0.1:9'], auth: { jwt: { secret: 'short' } } },
        { prefix: '/c', upstreams: ['http://127.0.0.1:9'], auth: { jwt: { issuer: 'x' } } },
        { prefix: '/d', upstreams: ['http://127.0.0.1:9'], auth: { forward: { url: 'not a url' } } },
        { prefix: '/e', upstreams: ['http://127.0.0.1:9'], rules: [{ action: 'maybe' }] },
        { prefix: '/f', upstreams: ['http://127.0.0.1:9'], cors: { origin: 42 } },
        { prefix: '/g', upstreams: ['http://127.0.0.1:9'], compress: { encodings: ['zstd'] } },
        { prefix: '/h', upstreams: ['http://127.0.0.1:9'], auth: {} },
      ],
    },
  })
  const r = await runCli(['--check', '--config', file])
  assert.equal(r.code, 1)
  for (const expected of [
    /reverse\.routes\[1\]\.auth\.jwt\.secret: must be at least 32 characters long/,
    /reverse\.routes\[3\]\.auth\.forward\.url: must be an http\(s\) URL/,
    /reverse\.routes\[4\]\.rules\[0\]\.action: must be one of "allow", "deny"/,
    /reverse\.routes\[5\]\.cors\.origin: must be/,
    /reverse\.routes\[6\]\.compress\.encodings\[0\]: must be one of "br", "gzip", "deflate"/,
  ])
    assert.match(r.stderr, expected)
  // The problems found after the schema (files, key sources, rules) come in a second pass.
  const second = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      rules: [{ action: 'allow', hosts: ['bad host!'] }],
      routes: [
        {
          prefix: '/a',
          upstreams: ['http://127.0.0.1:9'],
          auth: { basic: { htpasswd: '/nonexistent/htpasswd' } },
        },
        { prefix: '/c', upstreams: ['http://127.0.0.1:9'], auth: { jwt: { issuer: 'x' } } },
        { prefix: '/h', upstreams: ['http://127.0.0.1:9'], auth: {} },
      ],
    },
  })
  const r2 = await runCli(['--check', '--config', second])
  assert.equal(r2.code, 1)
  for (const expected of [
    /reverse\.routes\[0\]\.auth\.basic\.htpasswd: cannot read \/nonexistent\/htpasswd: ENOENT/,
    /reverse\.routes\[1\]\.auth\.jwt: needs exactly one of secret \(HS256\), jwks \(URL\) or publicKey \(PEM\)/,
    /reverse\.routes\[2\]\.auth: needs basic, jwt or forward/,
    /reverse\.rules\[0\]\.hosts/,
  ])
    assert.match(r2.stderr, expected)
})
