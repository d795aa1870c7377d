import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('an unreachable upstream or destination is a clear 502, and the gateway keeps serving', async (t) => {
  const gone = await startOrigin()
  const deadUrl = gone.url
  await gone.close()
  const alive = await startOrigin()
  t.after(() => alive.close())
  const file = await writeConfig(t, {
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'] },
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        { name: 'dead', prefix: '/dead', upstreams: [deadUrl], retries: 0 },
        { name: 'alive', prefix: '/alive', upstreams: [alive.url] },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward', 'reverse'])
  const res = await fetch(`${gw.urls.reverse}/dead/x`)
  assert.equal(res.status, 502)
  assert.match(await res.text(), /Bad gateway/i)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.status === 502)
  assert.equal(line.route, 'dead')

  const forward = await curl(['-i', '-x', gw.urls.forward!, `${deadUrl}/x`])
  assert.match(forward.stdout, /^HTTP\/1\.1 502/)

  assert.equal((await fetch(`${gw.urls.reverse}/alive/x`)).status, 200)
  assert.equal(await gw.stop(), 0)
})
