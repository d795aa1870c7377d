// Names are resolved once per dnsCacheTtl (concurrent requests share one query), failures are not
// remembered, and a remembered answer is still checked on every request.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import type { LookupFunction } from '../src/index.js'
import { send, startProxy } from './helpers.js'

function countingLookup(answers: Record<string, string>): { lookup: LookupFunction; calls: string[] } {
  const calls: string[] = []
  const lookup: LookupFunction = async (name) => {
    calls.push(name)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const address = answers[name]
    if (address === undefined) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
    return [{ address, family: 4 }]
  }
  return { lookup, calls }
}

const get = (proxyPort: number, host: string, port: number, extra = '') =>
  send(
    proxyPort,
    `GET http://${host}:${port}/ HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`,
  )

test('a name is looked up once for many requests, concurrent ones included', async (t) => {
  const origin = await startOrigin()
  const { lookup, calls } = countingLookup({ 'cached.test': '127.0.0.1' })
  const proxy = await startProxy({ lookup, connectPorts: [origin.port] })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const first = await Promise.all(
    Array.from({ length: 10 }, () => get(proxy.port, 'cached.test', origin.port)),
  )
  for (const r of first) assert.equal(r.statusCode, 200)
  for (let i = 0; i < 5; i++)
    assert.equal((await get(proxy.port, 'cached.test', origin.port)).statusCode, 200)
  assert.deepEqual(calls, ['cached.test'])
  assert.equal(origin.hits, 15)
})

test('dnsCacheTtl 0 resolves on every request', async (t) => {
  const origin = await startOrigin()
  const { lookup, calls } = countingLookup({ 'fresh.test': '127.0.0.1' })
  const proxy = await startProxy({ lookup, dnsCacheTtl: 0, connectPorts: [origin.port] })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  for (let i = 0; i < 3; i++) assert.equal((await get(proxy.port, 'fresh.test', origin.port)).statusCode, 200)
  assert.equal(calls.length, 3)
})

test('a failed lookup is not remembered', async (t) => {
  const origin = await startOrigin()
  const answers: Record<string, string> = {}
  const { lookup, calls } = countingLookup(answers)
  const proxy = await startProxy({ lookup, connectPorts: [origin.port] })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  assert.equal((await get(proxy.port, 'late.test', origin.port)).statusCode, 502)
  answers['late.test'] = '127.0.0.1'
  assert.equal((await get(proxy.port, 'late.test', origin.port)).statusCode, 200)
  assert.equal(calls.length, 2)
})

test('a remembered answer is still checked on every request (connect guards run each time)', async (t) => {
  const origin = await startOrigin()
  const { lookup, calls } = countingLookup({ 'guarded.test': '127.0.0.1' })
  const proxy = await startProxy({ lookup, connectPorts: [origin.port] }, (app) => {
    // A per-request rule, as access control's address rules are: this request may not reach 127.0.0.1.
    app.addHook('onRequest', async (request) => {
      if (request.headers['x-refuse'] !== undefined)
        request.proxy.connectGuards.push((address) =>
          address === '127.0.0.1' ? 'refused by the test' : null,
        )
    })
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  assert.equal((await get(proxy.port, 'guarded.test', origin.port)).statusCode, 200)
  const refused = await get(proxy.port, 'guarded.test', origin.port, 'X-Refuse: 1\r\n')
  assert.equal(refused.statusCode, 403)
  assert.match(refused.text, /refused by the test/)
  assert.deepEqual(calls, ['guarded.test'])
  assert.equal(origin.hits, 1)
})

test('dnsCacheTtl is validated at registration', async () => {
  await assert.rejects(startProxy({ dnsCacheTtl: -1 }), /dnsCacheTtl: must be a whole number/)
  await assert.rejects(startProxy({ dnsCacheTtl: 1.5 }), /dnsCacheTtl: /)
})
