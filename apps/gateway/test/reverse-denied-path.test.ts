import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('a path in a route deny list answers 403 without reaching the upstream', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ name: 'api', prefix: '/api', upstreams: [origin.url], deny: ['/admin'] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const base = gw.urls.reverse!
  for (const path of ['/api/admin', '/api/admin/users', '/api//admin', '/api/%61dmin']) {
    const res = await fetch(`${base}${path}`)
    assert.equal(res.status, 403, path)
    await res.arrayBuffer()
  }
  assert.equal(origin.hits, 0)
  assert.equal(
    (await fetch(`${base}/api/administrators`)).status,
    200,
    'prefixes match on segment boundaries',
  )
  assert.equal(origin.hits, 1)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.status === 403)
  assert.equal(line.access, 'deny')
  assert.equal(line.rule, 'api:deny')
  assert.equal(await gw.stop(), 0)
})
