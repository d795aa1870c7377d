import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import type { LookupFunction } from '../src/index.js'
import { send, startProxy } from './helpers.js'

test('a name resolving to a denied address is refused at connect time, and rebinding cannot pass', async (t) => {
  const denied = await startOrigin({ host: '127.0.0.2' })
  let connections = 0
  denied.server.on('connection', () => connections++)
  const allowed = await startOrigin()
  let rebindCalls = 0
  const lookup: LookupFunction = async (name) => {
    if (name === 'good.test') return [{ address: '127.0.0.1', family: 4 }]
    if (name === 'evil.test') return [{ address: '127.0.0.2', family: 4 }]
    // Answers the allowed address first, then the denied one: each request is checked on its own answer.
    if (name === 'rebind.test')
      return [{ address: rebindCalls++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }]
    throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
  }
  // No DNS cache here: the point is that each request is checked on the answer it got (dns-cache.test.ts
  // shows that a remembered answer is checked on every request too).
  const proxy = await startProxy({ lookup, dnsCacheTtl: 0, connectPorts: [denied.port, allowed.port] })
  t.after(() => Promise.all([proxy.app.close(), denied.close(), allowed.close()]))

  const get = (host: string, port: number) =>
    send(proxy.port, `GET http://${host}:${port}/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)

  const good = await get('good.test', allowed.port)
  assert.equal(good.statusCode, 200)
  assert.equal(JSON.parse(good.body.toString()).headers.host, `good.test:${allowed.port}`)

  const evil = await get('evil.test', denied.port)
  assert.equal(evil.statusCode, 403)
  assert.match(evil.text, /127\.0\.0\.2 is a loopback address/)
  const evilTunnel = await send(proxy.port, `CONNECT evil.test:${denied.port} HTTP/1.1\r\n\r\n`)
  assert.equal(evilTunnel.statusCode, 403)

  // Same port on both addresses is not needed: the second answer must be refused before any connect.
  const first = await get('rebind.test', allowed.port)
  assert.equal(first.statusCode, 200)
  const second = await get('rebind.test', denied.port)
  assert.equal(second.statusCode, 403)

  const unknown = await get('nowhere.test', allowed.port)
  assert.equal(unknown.statusCode, 502)
  assert.equal(connections, 0)
  assert.equal(allowed.hits, 2)
})
