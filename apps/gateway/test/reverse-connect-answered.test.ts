import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'
import { readUntil } from './helpers/socket.js'

test('a CONNECT sent to the reverse listener is answered 405 with Allow, logged with the client address and counted', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const port = Number(new URL(gw.urls.reverse!).port)
  const socket = net.connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  socket.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`)
  const answer = await readUntil(socket, /\r\n\r\n[\s\S]*\n/)
  assert.match(answer, /^HTTP\/1\.1 405 /)
  assert.match(answer, /\r\nallow: GET, HEAD, POST/i)
  assert.equal(origin.hits, 0)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.method === 'CONNECT')
  assert.equal(line.status, 405)
  assert.equal(line.remote, '127.0.0.1')
  assert.equal(line.target, `127.0.0.1:${origin.port}`)
  const metrics = await (await fetch(`${gw.urls.admin}/metrics`)).text()
  assert.match(metrics, /^proxykit_requests_total\{listener="reverse",route="connect",status="405"\} 1$/m)
})
