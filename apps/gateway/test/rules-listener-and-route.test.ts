// Issue 27 item 5: access-control's ordered rules written in the config, per route and per listener. A
// route's own rules come first (the first match decides), then the listener's `reverse.rules`, which
// apply to every route; paths in a route's rules are within its prefix; the deciding rule is logged.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curlStatus, startCli, writeConfig } from './helpers/cli.js'

test('route rules before the listener rules, first match wins', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      rules: [
        { name: 'no-internal', action: 'deny', paths: ['/shop/internal', '/blog/internal'] },
        { name: 'read-only', action: 'deny', methods: ['DELETE'] },
      ],
      routes: [
        {
          name: 'shop',
          prefix: '/shop',
          upstreams: [origin.url],
          rules: [
            {
              name: 'loopback-may-delete',
              action: 'allow',
              methods: ['DELETE'],
              clients: ['127.0.0.0/8'],
              paths: ['/cart'],
            },
            { name: 'no-reports', action: 'deny', paths: ['/reports'] },
          ],
        },
        { name: 'blog', prefix: '/blog', upstreams: [origin.url] },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const url = gw.urls.reverse!
  assert.equal(await curlStatus([`${url}/shop/items`]), 200)
  assert.equal(await curlStatus([`${url}/shop/REPORTS/q3`]), 403, 'a route rule, its path within the prefix')
  assert.equal(await curlStatus([`${url}/blog/reports`]), 200, "another route's rules do not apply")
  assert.equal(await curlStatus([`${url}/blog/internal/x`]), 403, 'the listener rule applies to every route')
  assert.equal(await curlStatus([`${url}/shop/internal/x`]), 403)
  assert.equal(await curlStatus(['-X', 'DELETE', `${url}/blog/post/1`]), 403, 'listener rule')
  assert.equal(await curlStatus(['-X', 'DELETE', `${url}/shop/cart/1`]), 200, 'the route rule decided first')
  assert.equal(await curlStatus(['-X', 'DELETE', `${url}/shop/items/1`]), 403)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.method === 'DELETE' && l.status === 200)
  assert.equal(line.rule, 'route:loopback-may-delete')
  await gw.waitForLog((l) => l.msg === 'access' && l.rule === 'no-internal' && l.status === 403)
  assert.equal(await gw.stop(), 0)
})
