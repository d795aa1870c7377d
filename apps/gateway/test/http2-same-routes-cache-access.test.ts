import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

test('HTTP/2 clients get the same routes, cache and refusals as HTTP/1.1 ones, logged and counted by protocol', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' })
        .end(`origin saw ${req.url}`),
  })
  t.after(() => origin.close())
  const ca = await createTestCa(t)
  const cert = await ca.issue(['h2.test'])
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      routes: [{ prefix: '/', upstreams: [origin.url], cache: true, deny: ['/private'] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const port = Number(new URL(gw.urls.reverse!).port)
  const get = async (version: '--http2' | '--http1.1', path: string) => {
    const r = await curl([
      version,
      '--cacert',
      ca.certFile,
      '--resolve',
      `h2.test:${port}:127.0.0.1`,
      '-w',
      '\n%{http_version} %{http_code}',
      `https://h2.test:${port}${path}`,
    ])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.split('\n')
    const [protocol, status] = lines.pop()!.split(' ')
    return { protocol, status: Number(status), body: lines.join('\n') }
  }
  const first = await get('--http2', '/page')
  assert.deepEqual(first, { protocol: '2', status: 200, body: 'origin saw /page' })
  // The second HTTP/2 request and an HTTP/1.1 one are cache hits: one origin request for the three.
  assert.deepEqual(await get('--http2', '/page'), first)
  assert.deepEqual(await get('--http1.1', '/page'), { ...first, protocol: '1.1' })
  assert.equal(origin.hits, 1)
  const denied = await get('--http2', '/private/x')
  assert.equal(denied.status, 403)
  assert.equal(denied.protocol, '2')
  assert.equal(origin.hits, 1)

  await gw.waitForLog((l) => l.msg === 'access' && l.status === 403)
  const lines = gw.logs.filter((l) => l.msg === 'access' && l.listener === 'reverse')
  const cache = (l: Record<string, unknown>) =>
    /\bhit\b/.test(String(l.cache)) ? 'hit' : l.cache == null ? null : 'miss'
  assert.deepEqual(
    lines.map((l) => [l.protocol, l.status, cache(l)]),
    [
      ['HTTP/2', 200, 'miss'],
      ['HTTP/2', 200, 'hit'],
      ['HTTP/1.1', 200, 'hit'],
      ['HTTP/2', 403, null],
    ],
  )
  // Bytes on HTTP/2 are this response's own, not the whole connection's.
  assert.equal(lines[0]!.bytes, 'origin saw /page'.length)
  const metrics = await curl([`${gw.urls.admin}/metrics`])
  assert.match(
    metrics.stdout,
    /proxykit_requests_by_protocol_total\{listener="reverse",protocol="HTTP\/2"\} 3/,
  )
  assert.match(
    metrics.stdout,
    /proxykit_requests_by_protocol_total\{listener="reverse",protocol="HTTP\/1.1"\} 1/,
  )
  assert.equal(await gw.stop(), 0)
})
