import assert from 'node:assert/strict'
import net from 'node:net'
import type { TestContext } from 'node:test'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { type RunningGateway, startCli, writeConfig } from './helpers/cli.js'

// Every request gets one access line and one count, finished or not; `end` says how it ended, and a
// client that left before the answer is logged as 499 (nginx's convention), which is never sent.

async function gateway(t: TestContext): Promise<{ gw: RunningGateway; port: number }> {
  const origin = await startOrigin({
    streaming: true,
    handler: (req, res) => {
      req.resume()
      // Slow enough that the clients below have left before it answers.
      req.once('end', () => setTimeout(() => res.end('late'), 400))
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  return { gw, port: Number(new URL(gw.urls.reverse!).port) }
}

function connect(t: TestContext, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
    t.after(() => s.destroy())
  })
}

async function linesFor(gw: RunningGateway, target: string) {
  await gw.waitForLog((l) => l.msg === 'access' && l.target === target, 10_000)
  // A little longer, to see that no second line follows.
  await new Promise((r) => setTimeout(r, 600))
  return gw.logs.filter((l) => l.msg === 'access' && l.listener === 'reverse' && l.target === target)
}

async function count(gw: RunningGateway, status: number): Promise<number> {
  const text = await (await fetch(`${gw.urls.admin}/metrics`)).text()
  const m = new RegExp(
    `^proxykit_requests_total\\{listener="reverse",route="/",status="${status}"\\} (\\d+)$`,
    'm',
  ).exec(text)
  return m === null ? 0 : Number(m[1])
}

test('a client that gives up before the answer gets one line (499, client-closed) and a count', async (t) => {
  const { gw, port } = await gateway(t)
  const s = await connect(t, port)
  s.write('GET /given-up HTTP/1.1\r\nHost: x\r\n\r\n')
  await new Promise((r) => setTimeout(r, 100))
  s.destroy()
  const lines = await linesFor(gw, '/given-up')
  assert.equal(lines.length, 1, JSON.stringify(lines))
  assert.equal(lines[0]!.status, 499)
  assert.equal(lines[0]!.end, 'client-closed')
  assert.equal(lines[0]!.remote, '127.0.0.1')
  assert.equal(await count(gw, 499), 1)
})

test('a client that half-closes after sending its request gets one line', async (t) => {
  const { gw, port } = await gateway(t)
  const s = await connect(t, port)
  s.on('data', () => {})
  s.end('GET /half-closed HTTP/1.1\r\nHost: x\r\n\r\n')
  const lines = await linesFor(gw, '/half-closed')
  assert.equal(lines.length, 1, JSON.stringify(lines))
  assert.ok([200, 499].includes(lines[0]!.status as number), `status ${lines[0]!.status}`)
  assert.equal((await count(gw, 200)) + (await count(gw, 499)), 1, 'counted once in proxykit_requests_total')
})

test('a client dropping mid-body is logged once as client-closed, not as 400 malformed', async (t) => {
  const { gw, port } = await gateway(t)
  const s = await connect(t, port)
  s.on('data', () => {})
  s.write('POST /mid-body HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789')
  await new Promise((r) => setTimeout(r, 200))
  s.end()
  const lines = await linesFor(gw, '/mid-body')
  assert.equal(lines.length, 1, JSON.stringify(lines))
  assert.equal(lines[0]!.status, 499)
  assert.equal(lines[0]!.end, 'client-closed')
  const malformed = gw.logs.filter((l) => l.msg === 'access' && l.route === 'malformed')
  assert.deepEqual(malformed, [], 'no 400 malformed line: no 400 was sent')
})
