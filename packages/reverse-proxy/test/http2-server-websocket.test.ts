import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import WebSocket, { WebSocketServer } from 'ws'
import { startH2Proxy } from './http2-helpers.js'

// WebSocket stays an HTTP/1.1 upgrade: on an HTTP/2 server with allowHTTP1 a WebSocket client connects
// over HTTP/1.1 (no ALPN h2) and the proxy relays the upgrade as on a plain HTTP/1.1 server.
test('WebSocket over HTTP/1.1 through the reverse proxy on an HTTP/2 server', async (t) => {
  const server = http.createServer()
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws, req) => {
    ws.send(`hello ${req.url} ${req.headers['x-forwarded-proto']}`)
    ws.on('message', (data) => ws.send(`echo ${data.toString()}`))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(async () => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  })
  const upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const proxy = await startH2Proxy(t, {
    routes: [{ prefix: '/ws', rewritePrefix: '/ws', upstreams: [upstream] }],
  })

  const ws = new WebSocket(`wss://127.0.0.1:${proxy.port}/ws/chat`, { ca: proxy.cert })
  t.after(() => ws.terminate())
  const messages: string[] = []
  ws.on('message', (d) => messages.push(d.toString()))
  await once(ws, 'open')
  ws.send('ping')
  for (let i = 0; i < 100 && messages.length < 2; i++) await new Promise((r) => setTimeout(r, 20))
  assert.deepEqual(messages, ['hello /ws/chat https', 'echo ping'])
  assert.deepEqual(proxy.versions, ['1.1'])
})
