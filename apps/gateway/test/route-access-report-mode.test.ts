// Issue 27 item 5: `accessMode: report` on a route rolls its rules and auth out by their logs: what they
// would refuse goes through, recorded as `report` in the access line, while a sibling route enforces.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import bcrypt from 'bcryptjs'
import { curlStatus, startCli, writeConfig } from './helpers/cli.js'

test('a route in report mode lets through what its rules and auth would refuse, and logs it', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const users = { alice: bcrypt.hashSync('pw', 4) }
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          name: 'trial',
          prefix: '/trial',
          upstreams: [origin.url],
          accessMode: 'report',
          auth: { basic: { users } },
          rules: [{ name: 'nobody', action: 'deny' }],
        },
        {
          name: 'live',
          prefix: '/live',
          upstreams: [origin.url],
          auth: { basic: { users } },
          rules: [{ name: 'nobody', action: 'deny' }],
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  assert.equal(await curlStatus([`${gw.urls.reverse}/trial/x`]), 200, 'no credentials: reported')
  assert.equal(await curlStatus(['-u', 'alice:pw', `${gw.urls.reverse}/trial/x`]), 200, 'denied: reported')
  assert.equal(origin.hits, 2)
  const reported = await gw.waitForLog((l) => l.msg === 'access' && l.user === 'alice' && l.route === 'trial')
  assert.equal(reported.access, 'report')
  assert.equal(reported.rule, 'route:nobody')
  await gw.waitForLog((l) => l.msg === 'access-control: would deny')
  assert.equal(await curlStatus([`${gw.urls.reverse}/live/x`]), 401)
  assert.equal(await curlStatus(['-u', 'alice:pw', `${gw.urls.reverse}/live/x`]), 403)
  assert.equal(origin.hits, 2, 'the enforcing route let nothing through')
  assert.equal(await gw.stop(), 0)
})
