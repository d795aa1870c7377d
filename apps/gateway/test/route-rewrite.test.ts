// Issue 27 item 2: `rewrite` changes the path the upstream sees by regex with captures, the query kept;
// a path no rule matches gets `rewritePrefix` as before.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

test('rewrite: regex captures decide the upstream path; rewritePrefix applies when no rule matches', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          prefix: '/api',
          rewritePrefix: '/v9',
          upstreams: [origin.url],
          rewrite: [
            { from: '^/api/v1/users/(\\d+)$', to: '/people/$1/profile' },
            { from: '^/api/v1/(.*)$', to: '/$1' },
          ],
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const upstreamUrl = async (path: string) => {
    const r = await request(`${gw.urls.reverse}${path}`)
    return ((await r.body.json()) as { url: string }).url
  }
  assert.equal(await upstreamUrl('/api/v1/users/7?full=1'), '/people/7/profile?full=1')
  assert.equal(await upstreamUrl('/api/v1/orders/3'), '/orders/3')
  assert.equal(await upstreamUrl('/api/other?q=2'), '/v9/other?q=2')
  assert.equal(await gw.stop(), 0)
})
