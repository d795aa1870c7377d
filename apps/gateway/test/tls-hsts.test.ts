import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

test('hsts sets Strict-Transport-Security on proxied answers, refusals and unmatched paths of the TLS listener', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const ca = await createTestCa(t)
  const cert = await ca.issue(['hsts.test'])
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      hsts: { maxAge: 31536000, includeSubDomains: true },
      routes: [{ prefix: '/app', upstreams: [origin.url], deny: ['/private'] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const port = Number(new URL(gw.urls.reverse!).port)
  const headers = async (path: string) => {
    const r = await curl([
      '-D',
      '-',
      '-o',
      '/dev/null',
      '--cacert',
      ca.certFile,
      '--resolve',
      `hsts.test:${port}:127.0.0.1`,
      `https://hsts.test:${port}${path}`,
    ])
    assert.equal(r.code, 0, r.stderr)
    return r.stdout.toLowerCase()
  }
  for (const [path, status] of [
    ['/app/x', 200],
    ['/app/private', 403],
    ['/elsewhere', 404],
  ] as const) {
    const h = await headers(path)
    assert.match(h, new RegExp(`^http/\\S+ ${status}`), path)
    assert.match(h, /\nstrict-transport-security: max-age=31536000; includesubdomains\r\n/, path)
  }
  assert.equal(await gw.stop(), 0)
})
