import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { type TestContext, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import websocketPlugin from '@fastify/websocket'
import { rawRequest, startTcpOrigin } from '@proxykit/core/testing'
import type { FastifyInstance } from 'fastify'
import WebSocket, { WebSocketServer } from 'ws'
import { startProxy } from './helpers.js'

/** A WebSocket echo origin that also reports which origin and path answered, and every close code it saw. */
async function wsOrigin(t: TestContext, name: string) {
  const server = http.createServer((_req, res) => res.end(`plain ${name}`))
  const wss = new WebSocketServer({ server })
  const closes: number[] = []
  const sockets = new Set<WebSocket>()
  wss.on('connection', (ws, req) => {
    sockets.add(ws)
    ws.send(`hello from ${name} at ${req.url} for ${req.headers['x-forwarded-for']}`)
    ws.on('message', (data, binary) => {
      if (data.toString() === 'close-me') ws.close(4001, 'asked')
      else ws.send(data, { binary })
    })
    ws.on('ping', (d) => ws.send(`got ping ${d.toString()}`))
    ws.on('close', (code) => closes.push(code))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(async () => {
    for (const s of sockets) s.terminate()
    wss.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, closes, sockets }
}

function open(url: string): Promise<{ ws: WebSocket; first: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('message', (d) => resolve({ ws, first: d.toString() }))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected ${res.statusCode}`)))
  })
}

const next = (ws: WebSocket) => once(ws, 'message').then(([d]) => (d as Buffer).toString())

async function exercise(
  t: TestContext,
  before?: (app: FastifyInstance) => Promise<void>,
  after?: (app: FastifyInstance) => Promise<void>,
) {
  const a = await wsOrigin(t, 'a')
  const b = await wsOrigin(t, 'b')
  const proxy = await startProxy(
    t,
    {
      routes: [
        {
          name: 'ws',
          prefix: '/ws',
          rewritePrefix: '/socket',
          balancer: 'round-robin',
          upstreams: [a.url, b.url],
        },
      ],
    },
    { ...(before ? { before } : {}), ...(after ? { after } : {}) },
  )
  const wsUrl = `ws://127.0.0.1:${proxy.port}/ws/chat?room=1`
  const one = await open(wsUrl)
  const two = await open(wsUrl)
  assert.deepEqual(
    [one.first, two.first].sort(),
    [
      'hello from a at /socket/chat?room=1 for 127.0.0.1',
      'hello from b at /socket/chat?room=1 for 127.0.0.1',
    ],
    'balanced over both upstreams, path rewritten, X-Forwarded-For set',
  )
  one.ws.send('text frame')
  assert.equal(await next(one.ws), 'text frame')
  const big = Buffer.alloc(200_000, 7)
  one.ws.send(big)
  const [echoed] = await once(one.ws, 'message')
  assert.ok(Buffer.compare(echoed as Buffer, big) === 0, 'a large binary frame passes intact')
  one.ws.ping('p1')
  const pong = once(one.ws, 'pong')
  assert.equal(await next(one.ws), 'got ping p1')
  await pong

  // The upstream closing with a code: the client sees that code.
  two.ws.send('close-me')
  const [code] = await once(two.ws, 'close')
  assert.equal(code, 4001)

  // The client closing: the upstream sees the client's code and its socket ends.
  one.ws.close(4002, 'bye')
  await once(one.ws, 'close')
  for (let i = 0; i < 100 && !a.closes.concat(b.closes).includes(4002); i++) await sleep(20)
  assert.ok(a.closes.concat(b.closes).includes(4002), 'the close code reached the upstream')

  // The client's TCP connection dying: the upstream's closes too.
  const three = await open(wsUrl)
  const before3 = a.closes.length + b.closes.length
  three.ws.terminate()
  for (let i = 0; i < 100 && a.closes.length + b.closes.length === before3; i++) await sleep(20)
  assert.equal(a.closes.length + b.closes.length, before3 + 1, 'the upstream side was closed')
  return proxy
}

/** h2c would tunnel requests past the proxy's routing: refused, and nothing of it reaches an upstream. */
async function assertH2cRefused(port: number) {
  const h2c = await rawRequest(
    port,
    'GET /ws/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    { idleMs: 2000 },
  )
  assert.equal(h2c.statusCode, 400)
  assert.match(h2c.text, /h2c is not supported/)
}

test('a ws client echoes through the proxy: frames, ping/pong and close codes pass both ways', async (t) => {
  const proxy = await exercise(t)
  await assertH2cRefused(proxy.port)
  // An upgrade for a path no route serves gets the app's 404, not a hang.
  const miss = await rawRequest(
    proxy.port,
    'GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    { idleMs: 2000 },
  )
  assert.equal(miss.statusCode, 404)
})

async function withOwnWebsocketRoute(app: FastifyInstance) {
  await app.register(websocketPlugin)
  app.get('/local', { websocket: true }, (socket) => socket.send('local handler'))
}

test('works with @fastify/websocket registered before it; only one of them answers each upgrade', async (t) => {
  const proxy = await exercise(t, withOwnWebsocketRoute)
  const local = await open(`ws://127.0.0.1:${proxy.port}/local`)
  assert.equal(local.first, 'local handler')
  local.ws.close()
  // @fastify/websocket's own 'upgrade' listener answers here: h2c must still be refused.
  await assertH2cRefused(proxy.port)
})

test('works with @fastify/websocket registered after it', async (t) => {
  const proxy = await exercise(t, undefined, withOwnWebsocketRoute)
  const local = await open(`ws://127.0.0.1:${proxy.port}/local`)
  assert.equal(local.first, 'local handler')
  local.ws.close()
  // @fastify/websocket's own 'upgrade' listener answers here: h2c must still be refused.
  await assertH2cRefused(proxy.port)
})

test('an upgrade runs the app’s onRequest hooks (access control applies to WebSockets)', async (t) => {
  const a = await wsOrigin(t, 'a')
  const proxy = await startProxy(
    t,
    { routes: [{ prefix: '/ws', upstreams: [a.url] }] },
    {
      before: (app) => {
        app.addHook('onRequest', async (request, reply) => {
          if (request.headers.authorization !== 'Bearer ok') return reply.code(401).send('no')
        })
      },
    },
  )
  await assert.rejects(open(`ws://127.0.0.1:${proxy.port}/ws`), /unexpected 401/)
  const ok = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws`, { headers: { authorization: 'Bearer ok' } })
  const [first] = await once(ok, 'message')
  assert.match((first as Buffer).toString(), /hello from a/)
  ok.close()
})

test('a refused upgrade ends the connection: nothing more the client sends reaches the upstream raw', async (t) => {
  // A raw upstream that records every byte and refuses the upgrade, keeping its connection open.
  const origin = await startTcpOrigin((socket, received) => {
    socket.on('data', () => {
      if (Buffer.concat(received).includes('\r\n\r\n') && !socket.writableEnded)
        socket.write('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 6\r\n\r\ndenied')
    })
  })
  t.after(() => origin.close())
  const proxy = await startProxy(t, {
    routes: [{ prefix: '/ws', upstreams: [`http://127.0.0.1:${origin.port}`] }],
  })
  const upgrade =
    'GET /ws/chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
  const res = await rawRequest(proxy.port, `${upgrade}GET /ws/admin HTTP/1.1\r\nHost: x\r\n\r\n`, {
    idleMs: 2000,
  })
  assert.equal(res.statusCode, 403)
  assert.equal(res.body.toString(), 'denied', 'the upstream’s answer, and only it')
  await sleep(200)
  const seen = origin.received.map((c) => Buffer.concat(c).toString('latin1')).join('')
  assert.match(seen, /^GET \/chat HTTP\/1\.1\r\n/, 'the prefix stripped, as @fastify/http-proxy does')
  assert.ok(!seen.includes('/ws/admin'), 'the bytes after the refused upgrade never reached the upstream')
})
