// Issue 23 item 10: `GET http://127.0.0.1:PORT/` reached ports CONNECT to the same address was refused.
// Plain-HTTP requests are now limited to `ports` (default: Squid's Safe_ports) as CONNECT is to
// `connectPorts`: a port outside it is a 403 before any connection, recorded as `forward.ports`.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { resolveOptions } from '../src/options.js'
import { send, startProxy } from './helpers.js'

const get = (proxyPort: number, port: number) =>
  send(
    proxyPort,
    `GET http://127.0.0.1:${port}/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
  )

test('a plain-HTTP request to a port outside `ports` is refused with 403 and reaches nothing', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const denied: string[] = []
  const proxy = await startProxy({ ports: [80, `${origin.port + 1}-65535`] }, (app) => {
    app.addHook('onResponse', async (request) => {
      if (request.proxy?.access?.decision === 'deny') denied.push(request.proxy.access.rule ?? '')
    })
  })
  t.after(() => proxy.app.close())
  const refused = await get(proxy.port, origin.port)
  assert.equal(refused.statusCode, 403)
  assert.match(refused.body.toString(), new RegExp(`port ${origin.port} is not allowed`))
  assert.equal(origin.hits, 0)
  assert.deepEqual(denied, ['forward.ports'])
})

test('by default (Safe_ports) the high ports pass and the low unlisted ones do not', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startProxy()
  t.after(() => proxy.app.close())
  assert.ok(origin.port >= 1025)
  assert.equal((await get(proxy.port, origin.port)).statusCode, 200)
  assert.equal(origin.hits, 1)
  // Refused before any connection is tried: nothing listens there and nothing is dialled.
  for (const port of [22, 25, 111, 1024])
    assert.equal((await get(proxy.port, port)).statusCode, 403, `${port}`)
})

test('`ports` takes numbers and low-high ranges; anything else names the option', () => {
  const allowed = resolveOptions({ ports: [8080, '9000-9002'] }).portAllowed
  assert.deepEqual([8079, 8080, 8999, 9000, 9002, 9003].map(allowed), [false, true, false, true, true, false])
  const safe = resolveOptions({}).portAllowed
  assert.deepEqual([21, 70, 80, 210, 280, 443, 488, 591, 777, 1025, 65535].map(safe), Array(11).fill(true))
  assert.deepEqual([1, 22, 25, 1024].map(safe), [false, false, false, false])
  for (const bad of [[0], ['80-70'], ['x'], [65536], 'all'])
    assert.throws(() => resolveOptions({ ports: bad as never }), /ports: must be an array of ports/)
})
