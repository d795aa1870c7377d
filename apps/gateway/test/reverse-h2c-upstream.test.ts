import assert from 'node:assert/strict'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { curl, runCli, startCli, writeConfig } from './helpers/cli.js'

// A route's `protocol: h2c` reaches its upstream over cleartext HTTP/2 whatever the client spoke, and
// --check refuses an upstream whose scheme cannot carry the route's protocol.

test('protocol: h2c sends an HTTP/1.1 client’s requests upstream over HTTP/2 on one session', async (t) => {
  let sessions = 0
  const server = http2.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(`${req.httpVersion} ${req.url}`)
  })
  server.on('session', () => sessions++)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise((r) => server.close(r)))
  const upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const mismatched = await writeConfig(t, {
    reverse: { routes: [{ upstreams: ['http://127.0.0.1:9001'], protocol: 'h2' }] },
  })
  const refused = await runCli(['--config', mismatched, '--check'])
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /reverse\.routes\[0\]\.upstreams\[0\]: must be an https URL with protocol h2/)

  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [upstream], protocol: 'h2c' }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  for (let i = 0; i < 3; i++) {
    const r = await curl(['--http1.1', `${gw.urls.reverse}/h2c/${i}`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `2.0 /h2c/${i}`)
  }
  assert.equal(sessions, 1)
  assert.equal(await gw.stop(), 0)
})
