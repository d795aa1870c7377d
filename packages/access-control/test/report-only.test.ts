// Report-only mode (`mode: 'report'`) on every path that would refuse: each request goes through, the
// decision says `report`, and a warning is logged for each, so a policy can be rolled out by its logs.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import accessControl, { hashPassword } from '../src/index.js'
import { basic } from './helpers.js'

async function reporting(t: { after(fn: () => unknown): void }) {
  const lines: Array<{ msg: string; access?: { decision: string; rule: string } }> = []
  const f = Fastify({
    logger: { level: 'warn', stream: { write: (line: string) => lines.push(JSON.parse(line)) } },
  })
  await f.register(accessControl, {
    mode: 'report',
    rules: [
      { name: 'no-admin', action: 'deny', paths: ['/admin'] },
      { name: 'members', action: 'allow', users: ['*'], paths: ['/members'] },
      { name: 'rest', action: 'allow' },
    ],
    auth: { realm: 'site', users: { carol: { password: await hashPassword('pw', { N: 1024 }) } } },
  })
  let handled = 0
  f.get('/*', async (request) => {
    handled++
    return request.proxy.access
  })
  await f.ready()
  t.after(() => f.close())
  return { f, lines, handled: () => handled }
}

test('report mode: a rule that would deny lets the request through and logs "would deny"', async (t) => {
  const { f, lines, handled } = await reporting(t)
  const res = await f.inject('/admin')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { decision: 'report', rule: 'no-admin', user: null })
  assert.equal(handled(), 1)
  const warned = lines.filter((l) => l.msg === 'access-control: would deny')
  assert.equal(warned.length, 1)
  assert.equal(warned[0]!.access?.rule, 'no-admin')
})

test('report mode: a rule that needs a user lets an anonymous request through and logs "would ask for credentials"', async (t) => {
  const { f, lines, handled } = await reporting(t)
  const res = await f.inject('/members/page')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['www-authenticate'], undefined)
  assert.equal(res.json().decision, 'report')
  assert.equal(handled(), 1)
  assert.equal(lines.filter((l) => l.msg === 'access-control: would ask for credentials').length, 1)
})

test('report mode: wrong credentials are recorded as a report on "authentication", not answered with 401', async (t) => {
  const { f, handled } = await reporting(t)
  const wrong = await f.inject({ url: '/members/page', headers: { authorization: basic('carol', 'nope') } })
  assert.equal(wrong.statusCode, 200)
  assert.equal(wrong.headers['www-authenticate'], undefined)
  // The credentials failed, so the request is decided as anonymous: the members rule would have asked.
  assert.equal(wrong.json().decision, 'report')
  const right = await f.inject({ url: '/members/page', headers: { authorization: basic('carol', 'pw') } })
  assert.deepEqual(right.json(), { decision: 'allow', rule: 'members', user: 'carol' })
  assert.equal(handled(), 2)
})

test('enforce mode, for contrast: the same requests are refused and nothing is logged as "would"', async (t) => {
  const lines: string[] = []
  const f = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => lines.push(line) } } })
  await f.register(accessControl, {
    rules: [{ name: 'no-admin', action: 'deny', paths: ['/admin'] }, { action: 'allow' }],
  })
  f.get('/*', async () => 'ran')
  await f.ready()
  t.after(() => f.close())
  assert.equal((await f.inject('/admin')).statusCode, 403)
  assert.equal(lines.filter((l) => l.includes('would')).length, 0)
})
