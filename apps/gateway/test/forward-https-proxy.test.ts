import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin, startTlsOrigin } from '@proxykit/core/testing'
import { ProxyAgent, request } from 'undici'
import { curl, startCli, writeConfig } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

test('forward.tls: clients speak TLS to the forward proxy (curl --proxy https://, undici ProxyAgent), absolute-form and CONNECT', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const tlsOrigin = await startTlsOrigin()
  t.after(() => tlsOrigin.close())
  const ca = await createTestCa(t)
  const cert = await ca.issue(['proxy.test'])
  const file = await writeConfig(t, {
    forward: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      allow: ['127.0.0.1'],
      // undici's ProxyAgent tunnels http:// targets too (CONNECT to the plain origin's port).
      connectPorts: [tlsOrigin.port, origin.port],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward'])
  assert.match(gw.urls.forward!, /^https:\/\//)
  const port = Number(new URL(gw.urls.forward!).port)
  const proxy = [
    '--proxy',
    `https://proxy.test:${port}`,
    '--proxy-cacert',
    ca.certFile,
    '--resolve',
    `proxy.test:${port}:127.0.0.1`,
  ]

  // Absolute-form over the TLS connection to the proxy.
  const plain = await curl([...proxy, `${origin.url}/absolute`])
  assert.equal(plain.code, 0, plain.stderr)
  assert.equal(JSON.parse(plain.stdout).url, '/absolute')
  // CONNECT over it: TLS inside TLS.
  const tunnelled = await curl([...proxy, '-k', `${tlsOrigin.url}/tunnelled`])
  assert.equal(tunnelled.code, 0, tunnelled.stderr)
  assert.equal(JSON.parse(tunnelled.stdout).url, '/tunnelled')
  // A client that does not trust the proxy's certificate does not get through.
  const untrusted = await curl([
    '--proxy',
    `https://proxy.test:${port}`,
    '--resolve',
    `proxy.test:${port}:127.0.0.1`,
    `${origin.url}/x`,
  ])
  assert.notEqual(untrusted.code, 0)

  // undici's ProxyAgent with an https:// proxy.
  const dispatcher = new ProxyAgent({
    uri: `https://127.0.0.1:${port}`,
    proxyTls: { ca: ca.cert, servername: 'proxy.test' },
  })
  t.after(() => dispatcher.close())
  const res = await request(`${origin.url}/undici`, { dispatcher })
  assert.equal(res.statusCode, 200)
  assert.equal(((await res.body.json()) as { url: string }).url, '/undici')

  // Log lines reach stdout up to 100 ms late (buffered, in order).
  await gw.waitForLog((l) => l.msg === 'access' && l.method === 'GET' && l.status === 200).catch(() => {})
  const lines = gw.logs.filter((l) => l.msg === 'access')
  assert.ok(
    lines.some((l) => l.method === 'GET' && l.status === 200),
    JSON.stringify(lines),
  )
  await gw.waitForLog((l) => l.msg === 'access' && l.method === 'CONNECT' && l.status === 200)
  assert.equal(origin.hits, 2)
  assert.equal(tlsOrigin.hits, 1)
  assert.equal(await gw.stop(), 0)
})
