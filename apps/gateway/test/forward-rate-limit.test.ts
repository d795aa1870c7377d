import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword } from '@proxykit/access-control'
import { startOrigin } from '@proxykit/core/testing'
import { curlStatus, startCli, writeConfig } from './helpers/cli.js'

test('the forward rate limit counts per user: 429 once a user has used it up, others unaffected', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const [alice, bob] = await Promise.all([hashPassword('a-pass'), hashPassword('b-pass')])
  const file = await writeConfig(t, {
    forward: {
      listen: '127.0.0.1:0',
      allow: ['127.0.0.1'],
      auth: { users: { alice, bob } },
      rateLimit: { max: 2, timeWindow: '1m' },
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward', 'admin'])
  const as = (user: string) => curlStatus(['-x', gw.urls.forward!, '-U', user, `${origin.url}/`])
  const alices = [await as('alice:a-pass'), await as('alice:a-pass'), await as('alice:a-pass')]
  assert.deepEqual(alices, [200, 200, 429])
  assert.equal(await as('bob:b-pass'), 200)
  assert.equal(origin.hits, 3)
  const metrics = await (await fetch(`${gw.urls.admin}/metrics`)).text()
  assert.match(metrics, /^proxykit_rate_limited_total\{listener="forward",route="http"\} 1$/m)
  assert.equal(await gw.stop(), 0)
})
