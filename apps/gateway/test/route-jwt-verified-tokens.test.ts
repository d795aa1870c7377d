// A JWT route remembers the tokens jose verified: by the exact token string, never past the token's own
// `exp`, at most maxAgeMs, and a bounded number of them, the least recently used going first. Through the
// gateway: a token verified once is refused once its exp has passed (clock tolerance 0).
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { resolveConfig, startGateway } from '../src/index.js'
import { VerifiedTokens } from '../src/routes/verified-tokens.js'

test('kept by the exact token, until exp or maxAgeMs, least recently used out first', () => {
  const tokens = new VerifiedTokens<string>(3, 60_000)
  const now = 1_000_000
  tokens.set('a', 'A', now + 10_000, now)
  assert.equal(tokens.get('a', now + 9_999), 'A')
  assert.equal(tokens.get('a ', now), undefined, 'another string is another token')
  assert.equal(tokens.get('A', now), undefined)
  assert.equal(tokens.get('a', now + 10_000), undefined, 'not at exp')
  assert.equal(tokens.size, 0, 'an expired entry is dropped when met')
  tokens.set('b', 'B', Number.POSITIVE_INFINITY, now)
  assert.equal(tokens.get('b', now + 59_999), 'B')
  assert.equal(tokens.get('b', now + 60_000), undefined, 'no exp: maxAgeMs')
  tokens.set('gone', 'G', now - 1, now)
  assert.equal(tokens.size, 0, 'an already expired token is not kept')

  tokens.set('1', 'one', Number.POSITIVE_INFINITY, now)
  tokens.set('2', 'two', Number.POSITIVE_INFINITY, now)
  tokens.set('3', 'three', Number.POSITIVE_INFINITY, now)
  assert.equal(tokens.get('1', now), 'one', 'used: now the most recent')
  tokens.set('4', 'four', Number.POSITIVE_INFINITY, now)
  assert.equal(tokens.size, 3, 'bounded')
  assert.equal(tokens.get('2', now), undefined, 'the least recently used went')
  assert.equal(tokens.get('1', now), 'one')
  assert.equal(tokens.get('3', now), 'three')
  assert.equal(tokens.get('4', now), 'four')
})

const SECRET = 'a-jwt-secret-of-at-least-32-characters!'
const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')
function jwt(claims: object): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`
}

test('through the gateway: a remembered token stops at its exp', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(String(req.headers['x-user']))
    },
  })
  t.after(() => origin.close())
  const config = resolveConfig({
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          prefix: '/',
          upstreams: [origin.url],
          auth: { jwt: { secret: SECRET, claimHeaders: { 'x-user': 'sub' } } },
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
    log: { access: false, level: 'silent' },
  })
  const gateway = await startGateway(config)
  t.after(() => gateway.close(0))
  const get = async (auth: string) => {
    const res = await request(`${gateway.listeners.reverse!.url}/`, { headers: { authorization: auth } })
    return { status: res.statusCode, body: await res.body.text() }
  }
  // exp is in whole seconds, taken once the gateway is up: 6 s for the two requests before it, and a
  // longer window again when a loaded machine took longer than that (an answer after exp proves nothing).
  let exp = 0
  let token = ''
  for (const window of [6, 20, 60]) {
    exp = Math.floor(Date.now() / 1000) + window
    token = jwt({ sub: 'alice', exp })
    const first = await get(`Bearer ${token}`)
    const again = await get(`Bearer ${token}`)
    if (Date.now() >= exp * 1000) continue
    assert.deepEqual(first, { status: 200, body: 'alice' })
    assert.deepEqual(again, { status: 200, body: 'alice' }, 'remembered: the same answer')
    break
  }
  assert.ok(Date.now() < exp * 1000, 'the requests before exp were answered before it')
  const other = jwt({ sub: 'bob', exp: exp + 3600 })
  assert.deepEqual(await get(`Bearer ${other}`), { status: 200, body: 'bob' }, 'each token its own claims')
  const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`
  assert.equal((await get(`Bearer ${forged}`)).status, 401, 'a token one byte off is verified, and refused')
  const wait = exp * 1000 - Date.now() + 50
  if (wait > 0) await sleep(wait)
  assert.equal((await get(`Bearer ${token}`)).status, 401, 'past exp, no longer honoured')
})
