import assert from 'node:assert/strict'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import { test } from 'node:test'
import { startOrigin, startTcpOrigin } from '@proxykit/core/testing'
import { ProxyAgent, request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'
import { readUntil } from './helpers/socket.js'

async function connect(port: number, target: number): Promise<{ socket: net.Socket; head: string }> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(`CONNECT 127.0.0.1:${target} HTTP/1.1\r\nHost: 127.0.0.1:${target}\r\n\r\n`)
  return { socket, head: await readUntil(socket, /\r\n\r\n/) }
}

test('an open CONNECT tunnel survives a reload that refuses new tunnels to its port', async (t) => {
  const echo = await startTcpOrigin()
  t.after(() => echo.close())
  const token = 'reload-tunnel-token'
  const config = (ports: number[]) => ({
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'], connectPorts: ports },
    admin: { listen: '127.0.0.1:0', token },
    shutdown: { grace: '1s' },
  })
  const file = await writeConfig(t, config([echo.port]), 'gateway.json')
  const gw = await startCli(t, ['--config', file], ['forward', 'admin'])
  const port = Number(new URL(gw.urls.forward!).port)

  const tunnel = await connect(port, echo.port)
  t.after(() => tunnel.socket.destroy())
  assert.match(tunnel.head, /^HTTP\/1\.1 200/)
  tunnel.socket.write('before')
  await readUntil(tunnel.socket, /before/)

  await writeFile(file, JSON.stringify(config([443])))
  const res = await fetch(`${gw.urls.admin}/reload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  })
  const body = (await res.json()) as { ok: boolean; applied: string[] }
  assert.equal(res.status, 200, JSON.stringify(body))
  assert.deepEqual(body.applied, ['forward'])

  tunnel.socket.write('after')
  await readUntil(tunnel.socket, /after/)
  const refused = await connect(port, echo.port)
  t.after(() => refused.socket.destroy())
  assert.match(refused.head, /^HTTP\/1\.1 403/, 'the new rule applies to new tunnels')
  const metrics = await (await fetch(`${gw.urls.admin}/metrics`)).text()
  assert.match(metrics, /^proxykit_tunnels_open 1$/m, 'the old generation still counts its tunnel')

  // Absolute-form HTTP through the new generation (the forward proxy's own 'request' listener runs there).
  const web = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('through the new generation')
    },
  })
  t.after(() => web.close())
  const agent = new ProxyAgent({ uri: gw.urls.forward!, proxyTunnel: false })
  t.after(() => agent.close())
  const viaProxy = await request(`${web.url}/page`, { dispatcher: agent })
  assert.equal(viaProxy.statusCode, 200)
  assert.equal(await viaProxy.body.text(), 'through the new generation')

  tunnel.socket.write('still')
  await readUntil(tunnel.socket, /still/)
  assert.equal(await gw.stop(), 0)
})
