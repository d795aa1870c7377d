import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('curl through the forward listener reaches an allowed origin and is logged', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward', 'admin'])
  const r = await curl(['-x', gw.urls.forward!, `${origin.url}/hello?x=1`])
  assert.equal(r.code, 0, r.stderr)
  const echoed = JSON.parse(r.stdout)
  assert.equal(echoed.url, '/hello?x=1')
  assert.equal(origin.hits, 1)
  // Anonymous mode (the default): nothing identifying the client reaches the origin.
  assert.equal(echoed.headers['x-forwarded-for'], undefined)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.listener === 'forward')
  assert.equal(line.method, 'GET')
  assert.equal(line.target, `${origin.url}/hello?x=1`)
  assert.equal(line.status, 200)
  assert.equal(line.access, 'allow')
  assert.equal(line.rule, 'forward.allow')
  assert.ok((line.bytes as number) > 0)
  assert.equal(typeof line.ms, 'number')
  const metrics = await (await fetch(`${gw.urls.admin}/metrics`)).text()
  assert.match(metrics, /^proxykit_requests_total\{listener="forward",route="http",status="200"\} 1$/m)
  assert.doesNotMatch(metrics, /proxykit_upstream_responses_total\{/, 'destinations are not metric labels')
  assert.equal(await gw.stop(), 0)
})
