import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTlsOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('HTTPS through a CONNECT tunnel of the forward listener, then the tunnel is logged', async (t) => {
  const origin = await startTlsOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'], connectPorts: [origin.port] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward', 'admin'])
  const r = await curl(['-k', '-x', gw.urls.forward!, `${origin.url}/secret`])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).url, '/secret')
  assert.equal(origin.hits, 1)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.method === 'CONNECT')
  assert.equal(line.status, 200)
  assert.equal(line.target, `127.0.0.1:${origin.port}`)
  assert.equal(line.route, 'connect')
  assert.equal(line.upstream, `127.0.0.1:${origin.port}`)

  // A port not in connectPorts is refused.
  const refused = await curl([
    '-k',
    '-x',
    gw.urls.forward!,
    '-o',
    '/dev/null',
    '-w',
    '%{http_connect}',
    'https://127.0.0.1:1/',
  ])
  assert.equal(refused.stdout, '403')
  assert.equal(await gw.stop(), 0)
})
