// Issue 27 item 4: a route's JWT auth checks RS256 tokens against a JWKS URL (a real JWKS server on
// loopback, fetched once and cached), with `iss`, `aud` and `exp`; a good token's claims go upstream as the
// headers `claimHeaders` names (a client's own copy is dropped), and the access log names the user.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

test('JWT: RS256 tokens verified against a JWKS URL, with iss/aud/exp and claims sent upstream', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256')
  const other = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }
  let jwksFetches = 0
  const jwks = http.createServer((_req, res) => {
    jwksFetches++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: [jwk] }))
  })
  jwks.listen(0, '127.0.0.1')
  await once(jwks, 'listening')
  t.after(() => jwks.close())
  const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`

  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          name: 'api',
          prefix: '/api',
          upstreams: [origin.url],
          auth: {
            realm: 'api',
            jwt: {
              jwks: jwksUrl,
              issuer: 'https://id.test',
              audience: 'api',
              claimHeaders: { 'x-user-id': 'sub', 'x-user-email': 'email' },
            },
          },
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const token = (claims: Record<string, unknown>, key = privateKey, exp: string | number = '5m') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer('https://id.test')
      .setAudience('api')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(key)
  const get = async (authorization?: string, extra: Record<string, string> = {}) => {
    const res = await request(`${gw.urls.reverse}/api/x`, {
      headers: { ...(authorization === undefined ? {} : { authorization }), ...extra },
    })
    await res.body.text()
    return res
  }

  const good = await token({ email: 'alice@id.test' })
  const ok = await get(`Bearer ${good}`, { 'x-user-id': 'mallory' })
  assert.equal(ok.statusCode, 200)
  const seen = origin.requests.at(-1)!.headers
  assert.equal(seen['x-user-id'], 'alice', "the claim, not the client's copy")
  assert.equal(seen['x-user-email'], 'alice@id.test')
  assert.equal((await get(`Bearer ${good}`)).statusCode, 200)
  assert.equal(jwksFetches, 1, 'the key set is fetched once and cached')
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.user === 'alice')
  assert.equal(line.status, 200)

  const hits = origin.hits
  const missing = await get()
  assert.equal(missing.statusCode, 401)
  assert.match(String(missing.headers['www-authenticate']), /Bearer realm="api"/)
  assert.equal((await get(`Bearer ${await token({}, other.privateKey)}`)).statusCode, 401, 'wrong key')
  assert.equal(
    (await get(`Bearer ${await token({}, privateKey, Math.floor(Date.now() / 1000) - 60)}`)).statusCode,
    401,
    'expired',
  )
  const wrongAudience = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer('https://id.test')
    .setAudience('billing')
    .setSubject('alice')
    .setExpirationTime('5m')
    .sign(privateKey)
  assert.equal((await get(`Bearer ${wrongAudience}`)).statusCode, 401, 'wrong audience')
  const wrongIssuer = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer('https://evil.test')
    .setAudience('api')
    .setSubject('alice')
    .setExpirationTime('5m')
    .sign(privateKey)
  assert.equal((await get(`Bearer ${wrongIssuer}`)).statusCode, 401, 'wrong issuer')
  assert.equal((await get('Bearer not.a.jwt')).statusCode, 401, 'garbage')
  assert.equal(origin.hits, hits, 'no refused request reached the upstream')
  assert.equal(await gw.stop(), 0)
})
