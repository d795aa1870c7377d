import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Origin, startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('IPv6 loopback targets are denied by default and reachable when allowed', async (t) => {
  let origin: Origin
  try {
    origin = await startOrigin({ host: '::1' })
  } catch {
    t.skip('no IPv6 loopback on this machine')
    return
  }
  const strict = await startProxy({ connectPorts: [origin.port] })
  const open = await startProxy({ allow: ['::1/128'], connectPorts: [origin.port] })
  t.after(() => Promise.all([strict.app.close(), open.app.close(), origin.close()]))

  const refused = await send(
    strict.port,
    `GET http://[::1]:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(refused.statusCode, 403)
  const refusedTunnel = await send(strict.port, `CONNECT [0:0:0:0:0:0:0:1]:${origin.port} HTTP/1.1\r\n\r\n`)
  assert.equal(refusedTunnel.statusCode, 403)
  assert.equal(origin.hits, 0)

  const ok = await send(
    open.port,
    `GET http://[::1]:${origin.port}/six HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(ok.statusCode, 200)
  assert.equal(JSON.parse(ok.body.toString()).headers.host, `[::1]:${origin.port}`)
})
