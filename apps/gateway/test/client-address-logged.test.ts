import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest, startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

// Lines written after the client's socket has closed (a tunnel ends with it; a malformed request's
// socket is destroyed as it is answered) still say who the client was.

test('CONNECT tunnel lines and malformed-request lines carry the client address', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'], connectPorts: [origin.port] },
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward', 'reverse', 'admin'])

  const r = await curl(['-p', '-x', gw.urls.forward!, `${origin.url}/through-a-tunnel`])
  assert.equal(r.code, 0, r.stderr)
  const tunnel = await gw.waitForLog((l) => l.msg === 'access' && l.method === 'CONNECT')
  assert.equal(tunnel.end, 'tunnel-closed')
  assert.equal(tunnel.remote, '127.0.0.1')

  const port = Number(new URL(gw.urls.reverse!).port)
  for (const bad of [
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
    'GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n',
  ]) {
    const res = await rawRequest(port, bad)
    assert.equal(res.statusCode, 400)
  }
  await gw.waitForLog(() => gw.logs.filter((l) => l.msg === 'access' && l.route === 'malformed').length === 3)
  const malformed = gw.logs.filter((l) => l.msg === 'access' && l.route === 'malformed')
  assert.deepEqual(
    malformed.map((l) => [l.status, l.remote, l.end]),
    Array(3).fill([400, '127.0.0.1', 'malformed']),
  )
  assert.equal(await gw.stop(), 0)
})
