import assert from 'node:assert/strict'
import net from 'node:net'
import type { TestContext } from 'node:test'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { type RunningGateway, startCli, writeConfig } from './helpers/cli.js'

// Slow clients hold a connection each for as long as they are let: the reverse listener cuts a head that
// takes longer than clientTimeouts.header, a body silent for clientTimeouts.body, and refuses connections
// past maxConnectionsPerClient from one address. Bounded: a few hundred sockets, seconds each.

async function gateway(t: TestContext, reverse: object): Promise<{ gw: RunningGateway; port: number }> {
  const origin = await startOrigin({
    streaming: true,
    handler: (req, res) => void req.resume().on('end', () => res.end('ok')),
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [origin.url] }], ...reverse },
    admin: { listen: '127.0.0.1:0' },
    log: { access: true },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  return { gw, port: Number(new URL(gw.urls.reverse!).port) }
}

interface Slow {
  socket: net.Socket
  /** ms from the start until the gateway closed it (null while open). */
  closedAfter: number | null
  answer: string
}

function open(t: TestContext, port: number, start: number, localAddress = '127.0.0.1'): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress })
    const slow: Slow = { socket, closedAfter: null, answer: '' }
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => {
      slow.answer += d
    })
    socket.on('error', () => {})
    socket.once('close', () => {
      slow.closedAfter = Date.now() - start
    })
    socket.once('connect', () => resolve(slow))
    socket.once('error', reject)
    t.after(() => socket.destroy())
  })
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  return cond()
}

test('slowloris: 200 sockets sending a head one line at a time are cut after clientTimeouts.header (408)', async (t) => {
  const { gw, port } = await gateway(t, { clientTimeouts: { header: '1s' } })
  const start = Date.now()
  const all = await Promise.all(Array.from({ length: 200 }, () => open(t, port, start)))
  for (const s of all) s.socket.write('GET / HTTP/1.1\r\nHost: x\r\n')
  // One more header line every 200 ms: each socket is active, just never done.
  const drip = setInterval(() => {
    for (const s of all) if (s.closedAfter === null && s.answer === '') s.socket.write('X-Slow: 1\r\n')
  }, 200)
  t.after(() => clearInterval(drip))
  // Cut after about a second (plus the server's check interval); 8 s is a bound for a busy machine.
  assert.ok(
    await until(() => all.every((s) => s.closedAfter !== null), 8_000),
    'every slowloris socket is cut',
  )
  clearInterval(drip)
  const latest = Math.max(...all.map((s) => s.closedAfter!))
  assert.ok(latest < 8_000, `the last one closed after ${latest} ms`)
  // Node writes the 408 and destroys the socket at once, so a busy machine may lose the answer itself
  // (the gateway's own lines below are the record); whatever did arrive is a 408.
  assert.ok(
    all.every((s) => s.answer === '' || /^HTTP\/1\.1 408 /.test(s.answer)),
    'nothing but a 408 was answered',
  )
  // And a normal client is served.
  assert.equal((await fetch(`${gw.urls.reverse}/ok`)).status, 200)
  assert.ok(
    await until(() => gw.logs.filter((l) => l.msg === 'access' && l.status === 408).length === 200, 5_000),
  )
})

test('slow POST: 50 sockets that stop sending their body are cut after clientTimeouts.body, logged 408 timeout', async (t) => {
  const { gw, port } = await gateway(t, { clientTimeouts: { body: '1s' } })
  const start = Date.now()
  const all = await Promise.all(Array.from({ length: 50 }, () => open(t, port, start)))
  for (const [i, s] of all.entries())
    s.socket.write(`POST /upload-${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789`)
  assert.ok(await until(() => all.every((s) => s.closedAfter !== null), 10_000), 'every slow POST is cut')
  const latest = Math.max(...all.map((s) => s.closedAfter!))
  assert.ok(latest < 10_000, `the last one closed after ${latest} ms`)
  assert.ok(
    await until(() => gw.logs.filter((l) => l.msg === 'access' && l.end === 'timeout').length === 50, 5_000),
    'one 408 timeout line per request',
  )
  const lines = gw.logs.filter((l) => l.msg === 'access' && String(l.target).startsWith('/upload-'))
  assert.equal(lines.length, 50)
  assert.ok(lines.every((l) => l.status === 408 && l.end === 'timeout'))
})

test('maxConnectionsPerClient: connections past the cap from one address are closed at once; others are served', async (t) => {
  const { gw, port } = await gateway(t, { maxConnectionsPerClient: 5 })
  const start = Date.now()
  const held = await Promise.all(Array.from({ length: 5 }, () => open(t, port, start)))
  const extra = await Promise.all(Array.from({ length: 3 }, () => open(t, port, start)))
  assert.ok(await until(() => extra.every((s) => s.closedAfter !== null), 3_000), 'the extra ones are closed')
  assert.ok(
    held.every((s) => s.closedAfter === null),
    'the first five stay open',
  )
  // Another client address is not affected.
  const other = await open(t, port, start, '127.0.0.2')
  other.socket.write('GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.ok(await until(() => other.closedAfter !== null, 5_000))
  assert.match(other.answer, /^HTTP\/1\.1 200 /)
  // Log lines are buffered (written every 100 ms at most) and in order: once the other client's access
  // line is here, every warning logged before it is too.
  const isWarning = (l: { msg?: unknown }) =>
    l.msg === 'client at maxConnectionsPerClient: further connections are closed'
  assert.ok(
    await until(
      () => gw.logs.some((l) => l.msg === 'access' && l.target === '/other') && gw.logs.some(isWarning),
      5_000,
    ),
    'the warning and the other client’s access line are logged',
  )
  const warned = gw.logs.filter(isWarning)
  assert.equal(warned.length, 1, 'logged once, not per refused connection')
  assert.equal(warned[0]!.remote, '127.0.0.1')
})
