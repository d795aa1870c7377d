import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { openTunnel, startProxy } from './helpers.js'

test('fastify.close() destroys open tunnels instead of waiting for them', async (t) => {
  const origin = await startTcpOrigin()
  const proxy = await startProxy({ connectPorts: [origin.port] })
  t.after(() => origin.close())

  const client = await openTunnel(proxy.port, origin.port)
  const closed = once(client, 'close')
  const started = Date.now()
  await proxy.app.close()
  await closed
  assert.ok(Date.now() - started < 10_000)
  const deadline = Date.now() + 5000
  while (origin.server.listening && Date.now() < deadline) {
    // The origin side is destroyed too: its server sees no open socket.
    const count = await new Promise<number>((r) => origin.server.getConnections((_e, n) => r(n)))
    if (count === 0) break
    await new Promise((r) => setTimeout(r, 20))
  }
  const left = await new Promise<number>((r) => origin.server.getConnections((_e, n) => r(n)))
  assert.equal(left, 0)
})
