import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import http from 'node:http'
import type { Socket } from 'node:net'
import { test } from 'node:test'
import { Agent, WebSocket } from 'undici'
import { curl, startCli, writeConfig } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

test('an HTTP/1.1 WebSocket upgrade works through the TLS listener that also offers HTTP/2', async (t) => {
  // The origin accepts the upgrade and sends one text frame (unmasked, as a server's are).
  const origin = http.createServer((_req, res) => res.end('plain'))
  origin.on('upgrade', (req, socket: Socket) => {
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64')
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`,
    )
    const text = Buffer.from(`hello ${req.url}`)
    socket.write(Buffer.concat([Buffer.from([0x81, text.length]), text]))
    socket.on('error', () => {})
  })
  origin.listen(0, '127.0.0.1')
  await once(origin, 'listening')
  t.after(() => {
    origin.closeAllConnections()
    origin.close()
  })
  const originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`
  const ca = await createTestCa(t)
  const cert = await ca.issue(['ws.test'])
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      routes: [{ prefix: '/', upstreams: [originUrl] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const port = Number(new URL(gw.urls.reverse!).port)
  // The port speaks HTTP/2 to a client that offers it…
  const h2 = await curl([
    '--http2',
    '--cacert',
    ca.certFile,
    '--resolve',
    `ws.test:${port}:127.0.0.1`,
    '-o',
    '/dev/null',
    '-w',
    '%{http_version}',
    `https://ws.test:${port}/`,
  ])
  assert.equal(h2.stdout, '2')

  // …and a WebSocket client (HTTP/1.1 by ALPN) upgrades through it.
  const dispatcher = new Agent({
    connect: {
      ca: ca.cert,
      servername: 'ws.test',
      lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]),
    },
  })
  t.after(() => dispatcher.close())
  const ws = new WebSocket(`wss://ws.test:${port}/socket`, { dispatcher })
  const [event] = (await Promise.race([
    once(ws, 'message'),
    once(ws, 'error').then(([e]) => {
      throw new Error(`websocket failed: ${(e as { message?: string }).message ?? e}`)
    }),
  ])) as [{ data: string }]
  assert.equal(event.data, 'hello /socket')
  ws.close()
  assert.equal(await gw.stop(), 0)
})
