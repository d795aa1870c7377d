import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'
import { readUntil } from './helpers/socket.js'

test('an open CONNECT tunnel is counted, keeps working during the grace period, then is closed', async (t) => {
  const echo = await startTcpOrigin()
  t.after(() => echo.close())
  const file = await writeConfig(t, {
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'], connectPorts: [echo.port] },
    admin: { listen: '127.0.0.1:0' },
    shutdown: { grace: '2s' },
  })
  const gw = await startCli(t, ['--config', file], ['forward', 'admin'])
  const port = Number(new URL(gw.urls.forward!).port)
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  t.after(() => socket.destroy())
  await once(socket, 'connect')
  socket.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\n`)
  assert.match(await readUntil(socket, /\r\n\r\n/, 10_000), /^HTTP\/1\.1 200/)
  socket.write('ping-1')
  await readUntil(socket, /ping-1/, 10_000)

  const metrics = await (await fetch(`${gw.urls.admin}/metrics`)).text()
  assert.match(metrics, /^proxykit_tunnels_open 1$/m)

  const closed = once(socket, 'close')
  const signalled = Date.now()
  gw.child.kill('SIGTERM')
  await gw.waitForLog((l) => l.msg === 'shutting down')
  socket.write('ping-2')
  await readUntil(socket, /ping-2/, 10_000)
  await closed
  assert.ok(Date.now() - signalled >= 1500, 'the tunnel lived through the grace period')
  assert.equal(await gw.exited, 0)
  const line = gw.logs.find((l) => l.msg === 'access' && l.method === 'CONNECT')
  assert.equal(line?.status, 200)
})
