import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('a route rate limit answers 429 with Retry-After once the limit is used up', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          name: 'limited',
          prefix: '/limited',
          upstreams: [origin.url],
          rateLimit: { max: 3, timeWindow: '1m' },
        },
        { name: 'free', prefix: '/free', upstreams: [origin.url] },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${gw.urls.reverse}/limited/x`)
    statuses.push(res.status)
    if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) > 0)
    await res.arrayBuffer()
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429])
  assert.equal(origin.hits, 3)
  assert.equal((await fetch(`${gw.urls.reverse}/free/x`)).status, 200, 'other routes are not limited')
  assert.equal(await gw.stop(), 0)
})
