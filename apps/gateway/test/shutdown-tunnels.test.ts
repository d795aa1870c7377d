import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

/** Reads from the socket until `pattern` shows up in what arrived (bounded by timeoutMs). */
function readUntil(socket: net.Socket, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => {
      socket.off('data', onData)
      reject(new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(text)}`))
    }, timeoutMs)
    const onData = (c: Buffer) => {
      text += c.toString('latin1')
      if (pattern.test(text)) {
        clearTimeout(timer)
        socket.off('data', onData)
        resolve(text)
      }
    }
    socket.on('data', onData)
  })
}

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
  assert.match(await readUntil(socket, /\r\n\r\n/), /^HTTP\/1\.1 200/)
  socket.write('ping-1')
  await readUntil(socket, /ping-1/)

  const metrics = await (await fetch(`${gw.urls.admin}/metrics`)).text()
  assert.match(metrics, /^proxykit_tunnels_open 1$/m)

  const closed = once(socket, 'close')
  const signalled = Date.now()
  gw.child.kill('SIGTERM')
  await gw.waitForLog((l) => l.msg === 'shutting down')
  socket.write('ping-2')
  await readUntil(socket, /ping-2/)
  await closed
  assert.ok(Date.now() - signalled >= 1500, 'the tunnel lived through the grace period')
  assert.equal(await gw.exited, 0)
  const line = gw.logs.find((l) => l.msg === 'access' && l.method === 'CONNECT')
  assert.equal(line?.status, 200)
})
