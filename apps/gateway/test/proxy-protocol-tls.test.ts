import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'
import { startHaproxy } from './helpers/haproxy.js'
import { createTestCa } from './helpers/tls.js'

// On a TLS listener the PROXY header comes before the TLS handshake, and the TLS socket asks the kernel
// for its peer again: the header's client address must still be the one HTTP/1.1 and HTTP/2 requests
// carry to logs and X-Forwarded-For. HAProxy relays TLS untouched (mode tcp) with send-proxy-v2.

test('PROXY protocol before TLS: the real client address over HTTP/1.1 and HTTP/2', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const ca = await createTestCa(t)
  const cert = await ca.issue(['pp.test'])
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      proxyProtocol: { from: ['127.0.0.1'] },
      routes: [{ upstreams: [origin.url] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const [front] = await startHaproxy(t, [
    { to: Number(new URL(gw.urls.reverse!).port), send: 'send-proxy-v2' },
  ])
  for (const [flag, client, version] of [
    ['--http1.1', '127.0.0.21', '1.1'],
    ['--http2', '127.0.0.22', '2'],
  ] as const) {
    const r = await curl([
      flag,
      '--interface',
      client,
      '--cacert',
      ca.certFile,
      '--resolve',
      `pp.test:${front}:127.0.0.1`,
      '-w',
      '\n%{http_version}',
      `https://pp.test:${front}/who`,
    ])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.split('\n')
    assert.equal(lines.pop(), version)
    assert.equal(JSON.parse(lines.join('\n')).headers['x-forwarded-for'], client)
    await gw.waitForLog((l) => l.msg === 'access' && l.remote === client)
  }
  assert.equal(await gw.stop(), 0)
})
