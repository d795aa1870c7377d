import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { type TestContext, test } from 'node:test'
import WebSocket, { WebSocketServer } from 'ws'
import { startProxy, waitUntil } from './helpers.js'

/** A WebSocket origin that greets with its name; `/healthz` answers `healthStatus`. Counts upgrades. */
async function wsOrigin(t: TestContext, name: string, healthStatus: number) {
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') res.writeHead(healthStatus).end()
    else res.end(name)
  })
  const wss = new WebSocketServer({ server })
  const counts = { upgrades: 0 }
  server.on('upgrade', () => counts.upgrades++)
  wss.on('connection', (ws) => ws.send(`hello from ${name}`))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(async () => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts }
}

function firstMessage(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('message', (d) => {
      resolve(d.toString())
      ws.close()
    })
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected ${res.statusCode}`)))
  })
}

test('a WebSocket upgrade skips an upstream taken out by health checks and goes to the healthy one', async (t) => {
  const down = await wsOrigin(t, 'down', 503)
  const up = await wsOrigin(t, 'up', 204)
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'ws',
        balancer: 'round-robin',
        upstreams: [down.url, up.url],
        healthCheck: { path: '/healthz', intervalMs: 20, timeoutMs: 2000, rise: 1, fall: 1 },
      },
    ],
  })
  const state = () => proxy.app.reverseProxy.upstreams('ws')[0]!.state
  // Liveness bound only.
  await waitUntil(() => state() === 'unhealthy', 400, 20)
  assert.equal(state(), 'unhealthy')
  const greetings: string[] = []
  for (let i = 0; i < 6; i++) greetings.push(await firstMessage(`ws://127.0.0.1:${proxy.port}/chat`))
  assert.deepEqual(greetings, Array(6).fill('hello from up'))
  assert.equal(down.counts.upgrades, 0, 'no upgrade reached the unhealthy upstream')
  assert.equal(up.counts.upgrades, 6)
})
