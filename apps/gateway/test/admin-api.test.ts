import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

const TOKEN = 'admin-token-for-tests'

test('admin: health, readiness, token-guarded purge and upstream add / drain / remove', async (t) => {
  const a = await startOrigin()
  const b = await startOrigin()
  t.after(() => Promise.all([a.close(), b.close()]))
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ name: 'api', upstreams: [a.url], cache: true }] },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const admin = gw.urls.admin!
  const call = async (method: string, path: string, body?: object, token: string | null = TOKEN) => {
    const headers: Record<string, string> = {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (token !== null) headers.authorization = `Bearer ${token}`
    const res = await fetch(`${admin}${path}`, { method, headers, body: body && JSON.stringify(body) })
    return { status: res.status, json: (await res.json()) as any }
  }
  assert.deepEqual((await call('GET', '/healthz')).json, { status: 'ok' })
  const ready = await call('GET', '/readyz')
  assert.equal(ready.status, 200)
  assert.deepEqual(ready.json.checks, { accepting: true, reverse: true })

  // Mutating calls need the token.
  assert.equal((await call('POST', '/purge', { url: 'http://x/' }, null)).status, 401)
  assert.equal((await call('POST', '/purge', { url: 'http://x/' }, 'wrong-token')).status, 401)
  assert.equal((await call('POST', '/upstreams', { route: 'api', url: b.url }, null)).status, 401)
  assert.equal((await call('POST', '/purge', { nothing: 1 })).status, 400)

  // Add b: requests now alternate.
  const added = await call('POST', '/upstreams', { route: 'api', url: b.url })
  assert.equal(added.status, 200, JSON.stringify(added.json))
  assert.equal((await call('POST', '/upstreams', { route: 'api', url: b.url })).status, 400, 'duplicate')
  assert.equal((await call('POST', '/upstreams', { route: 'nope', url: b.url })).status, 404)
  const list = await call('GET', '/upstreams')
  assert.deepEqual(
    list.json.upstreams.map((u: { url: string }) => u.url),
    [a.url, b.url],
  )
  for (let i = 0; i < 4; i++) await (await fetch(`${gw.urls.reverse}/n${i}`)).arrayBuffer()
  assert.equal(a.hits, 2)
  assert.equal(b.hits, 2)

  // Drain a: everything goes to b.
  assert.equal((await call('POST', '/upstreams/drain', { route: 'api', url: a.url })).status, 200)
  for (let i = 0; i < 2; i++) await (await fetch(`${gw.urls.reverse}/d${i}`)).arrayBuffer()
  assert.equal(a.hits, 2)
  assert.equal(b.hits, 4)
  assert.equal((await call('POST', '/upstreams/undrain', { route: 'api', url: a.url })).status, 200)

  // Remove b.
  const removed = await call('DELETE', '/upstreams', { route: 'api', url: b.url })
  assert.equal(removed.status, 200)
  assert.deepEqual(removed.json.result, { drained: true })
  assert.deepEqual(
    (await call('GET', '/upstreams')).json.upstreams.map((u: { url: string }) => u.url),
    [a.url],
  )

  // Purge by URL: the next request goes upstream again.
  const cacheable = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', 'cache-tag': 'docs' })
      res.end('x')
    },
  })
  t.after(() => cacheable.close())
  await call('POST', '/upstreams', { route: 'api', url: cacheable.url })
  await call('POST', '/upstreams/drain', { route: 'api', url: a.url })
  const page = `${gw.urls.reverse}/page`
  await (await fetch(page)).arrayBuffer()
  await (await fetch(page)).arrayBuffer()
  assert.equal(cacheable.hits, 1)
  assert.equal((await call('POST', '/purge', { url: page })).status, 200)
  await (await fetch(page)).arrayBuffer()
  assert.equal(cacheable.hits, 2)
  assert.equal((await call('POST', '/purge', { tag: 'docs' })).status, 200)
  await (await fetch(page)).arrayBuffer()
  assert.equal(cacheable.hits, 3)
  assert.equal(await gw.stop(), 0)
})

test('admin: without a configured token, mutating calls are refused (403)', async (t) => {
  const file = await writeConfig(t, { admin: { listen: '127.0.0.1:0' } })
  const gw = await startCli(t, ['--config', file], ['admin'])
  const res = await fetch(`${gw.urls.admin}/purge`, {
    method: 'POST',
    headers: { authorization: 'Bearer anything-at-all', 'content-type': 'application/json' },
    body: '{"url":"http://x/"}',
  })
  assert.equal(res.status, 403)
  assert.match(((await res.json()) as { error: string }).error, /admin\.token is not configured/)
  assert.equal(await gw.stop(), 0)
})
