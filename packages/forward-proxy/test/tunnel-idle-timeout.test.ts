import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { openTunnel, startProxy } from './helpers.js'

test('a tunnel silent both ways for tunnelIdleTimeout is closed; one that talks stays open', async (t) => {
  let originSideClosed = 0
  const origin = await startTcpOrigin((socket) => {
    socket.pipe(socket)
    socket.on('close', () => originSideClosed++)
  })
  const proxy = await startProxy({ connectPorts: [origin.port], tunnelIdleTimeout: 1000 })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const client = await openTunnel(proxy.port, origin.port)
  // Talk every 100 ms for about 1.5 s: longer than the idle timeout in total, never idle that long.
  for (let i = 0; i < 15; i++) {
    client.write('tick')
    const [echo] = (await once(client, 'data')) as [Buffer]
    assert.equal(echo.toString(), 'tick')
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.equal(client.destroyed, false)
  const started = Date.now()
  await once(client, 'close')
  const waited = Date.now() - started
  assert.ok(waited < 15_000, `still open after ${waited} ms of silence`)
  const deadline = Date.now() + 5000
  while (originSideClosed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  assert.equal(originSideClosed, 1)
})
