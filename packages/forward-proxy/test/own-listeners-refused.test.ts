// Issue 26.6: with loopback allowed, a client could reach the process's other listeners (an admin API)
// through the forward proxy. Every address in `ownAddresses` is refused (403) whatever `allow` says, for
// absolute-form and CONNECT, in every spelling of the address; the proxy's own listener stays a loop (508).
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import Fastify from 'fastify'
import type { OwnAddress } from '../src/index.js'
import { send, startProxy } from './helpers.js'

test('the process’s other listeners are never a destination, whatever allow says', async (t) => {
  const own: OwnAddress[] = []
  let adminHits = 0
  const admin = Fastify()
  admin.all('/*', async () => {
    adminHits++
    return 'admin'
  })
  await admin.listen({ host: '127.0.0.1', port: 0 })
  const admin6 = Fastify()
  admin6.all('/*', async () => {
    adminHits++
    return 'admin'
  })
  await admin6.listen({ host: '::1', port: 0 })
  const port = (admin.server.address() as AddressInfo).port
  const port6 = (admin6.server.address() as AddressInfo).port
  own.push({ address: '127.0.0.1', port }, { address: '::1', port: port6 })
  const proxy = await startProxy({ allow: ['loopback'], connectPorts: [port, port6], ownAddresses: own })
  t.after(() => Promise.all([proxy.app.close(), admin.close(), admin6.close()]))

  for (const authority of [
    `127.0.0.1:${port}`,
    `localhost:${port}`,
    `[::ffff:127.0.0.1]:${port}`,
    `2130706433:${port}`,
    `[::1]:${port6}`,
  ]) {
    const get = await send(
      proxy.port,
      `GET http://${authority}/ HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`,
    )
    assert.equal(get.statusCode, 403, `GET ${authority}`)
    assert.match(get.text, /own listeners/)
    const connect = await send(proxy.port, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`)
    assert.equal(connect.statusCode, 403, `CONNECT ${authority}`)
  }
  assert.equal(adminHits, 0)

  const loop = await send(
    proxy.port,
    `GET http://localhost:${proxy.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(loop.statusCode, 508, 'the proxy itself is a loop')
})
