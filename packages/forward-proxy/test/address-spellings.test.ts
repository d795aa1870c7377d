import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

// Every way of writing 127.0.0.2 (denied: only 127.0.0.1/32 is allowed) that a URL parser or resolver
// might accept. Each must be refused (400 or 403), and the origin listening on 127.0.0.2 must never
// see a connection.
const SPELLINGS = [
  '127.0.0.2',
  '2130706434',
  '0x7f000002',
  '0X7F000002',
  '0177.0.0.2',
  '0177.0000.0000.0002',
  '127.2',
  '127.0.2',
  '0x7f.0.0.2',
  '0x7f.2',
  '[::ffff:127.0.0.2]',
  '[::FFFF:7F00:2]',
  '[0:0:0:0:0:ffff:127.0.0.2]',
  '127.0.0.2.',
  '%31%32%37.0.0.2',
  '127%2E0%2E0%2E2',
  'allowed@127.0.0.2',
  '127.0.0.1@127.0.0.2',
  '127.0.0.1:1@127.0.0.2',
]

test('every spelling of a denied loopback address is refused and the denied origin hears nothing', async (t) => {
  const denied = await startOrigin({ host: '127.0.0.2' })
  let connections = 0
  denied.server.on('connection', () => connections++)
  const allowed = await startOrigin()
  const proxy = await startProxy({ connectPorts: [denied.port, allowed.port] })
  t.after(() => Promise.all([proxy.app.close(), denied.close(), allowed.close()]))

  for (const host of SPELLINGS) {
    const authority = `${host}:${denied.port}`
    const get = await send(
      proxy.port,
      `GET http://${authority}/secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    )
    assert.ok([400, 403].includes(get.statusCode), `GET ${authority} answered ${get.statusCode}`)
    const connect = await send(proxy.port, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`)
    assert.ok([400, 403].includes(connect.statusCode), `CONNECT ${authority} answered ${connect.statusCode}`)
  }
  assert.equal(connections, 0)
  assert.equal(denied.hits, 0)

  // The same spellings of the allowed address do get through: the refusals above are the guard's.
  for (const host of ['2130706433', '0x7f.1', '[::ffff:127.0.0.1]', '127.0.0.1.']) {
    const ok = await send(
      proxy.port,
      `GET http://${host}:${allowed.port}/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    )
    assert.equal(ok.statusCode, 200, `GET ${host} answered ${ok.statusCode}`)
  }
  assert.equal(allowed.hits, 4)
})
