import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startProxy } from './helpers.js'

async function waitFor(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
  return check()
}

test('a client that disconnects mid-download aborts the upstream response', async (t) => {
  let upstreamClosed = false
  let wrote = 0
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const chunk = Buffer.alloc(16 * 1024, 1)
      const timer = setInterval(() => {
        if (wrote < 256) {
          res.write(chunk)
          wrote++
        }
      }, 10)
      res.on('close', () => {
        clearInterval(timer)
        upstreamClosed = true
      })
    },
  })
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const client = net.connect(proxy.port, '127.0.0.1')
  await once(client, 'connect')
  client.write(`GET http://127.0.0.1:${origin.port}/stream HTTP/1.1\r\nHost: x\r\n\r\n`)
  await once(client, 'data')
  client.destroy()
  assert.ok(await waitFor(() => upstreamClosed), 'the origin response was not aborted')
  assert.ok(wrote < 256, 'the origin wrote its whole body')
  assert.ok(await waitFor(() => origin.openSockets === 0), 'a socket to the origin was leaked')
})

test('a client that disconnects before the response head aborts the upstream request', async (t) => {
  let upstreamClosed = false
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.on('close', () => {
        upstreamClosed = true
      })
    },
  })
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const client = net.connect(proxy.port, '127.0.0.1')
  await once(client, 'connect')
  client.write(`GET http://127.0.0.1:${origin.port}/never HTTP/1.1\r\nHost: x\r\n\r\n`)
  assert.ok(await waitFor(() => origin.hits === 1))
  client.destroy()
  assert.ok(await waitFor(() => upstreamClosed), 'the pending upstream request was not aborted')
})

test('a client that disconnects mid-upload aborts the upstream request', async (t) => {
  let upstreamClosed = false
  let received = 0
  const origin = await startOrigin({
    streaming: true,
    handler: (req, res) => {
      req.on('data', (c: Buffer) => {
        received += c.length
      })
      req.on('error', () => {})
      res.on('close', () => {
        upstreamClosed = true
      })
    },
  })
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const client = net.connect(proxy.port, '127.0.0.1')
  await once(client, 'connect')
  client.write(
    `POST http://127.0.0.1:${origin.port}/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n`,
  )
  client.write(Buffer.alloc(64 * 1024, 7))
  assert.ok(await waitFor(() => received > 0), 'the upload never reached the origin')
  client.destroy()
  assert.ok(await waitFor(() => upstreamClosed), 'the upstream request was not aborted')
  assert.ok(received < 10_000_000)
})
