// Issue 23 item 8: IIS (URL Rewrite), Symfony and other frameworks route by X-Original-URL and
// X-Rewrite-URL, so a client's copy would take a request past the rules the proxy applied to its path
// (`GET /public` with `X-Original-URL: /admin`). They are stripped by default (upgrades share the same
// header copy); `stripRequestHeaders` names the list (and `[]` keeps them).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { resolveOptions } from '../src/index.js'
import { client, get, startProxy } from './helpers.js'

const smuggled = { 'x-original-url': '/admin', 'x-rewrite-url': '/admin', 'x-kept': 'yes' }

test('X-Original-URL and X-Rewrite-URL from a client never reach the upstream', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startProxy(t, { routes: [{ upstreams: [origin.url] }] })
  const agent = client(t)
  for (const preserveHost of [false, true]) {
    const p = preserveHost
      ? await startProxy(t, { preserveHost: true, routes: [{ upstreams: [origin.url] }] })
      : proxy
    const r = await get(agent, `${p.url}/public`, { headers: { ...smuggled, 'X-Original-URL': '/admin' } })
    assert.equal(r.status, 200)
    const seen = JSON.parse(r.text)
    assert.equal(seen.url, '/public')
    assert.equal(seen.headers['x-original-url'], undefined)
    assert.equal(seen.headers['x-rewrite-url'], undefined)
    assert.equal(seen.headers['x-kept'], 'yes')
  }
  assert.equal(origin.requests.length, 2)
})

test('stripRequestHeaders replaces the list; [] keeps every header', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const agent = client(t)
  const custom = await startProxy(t, {
    stripRequestHeaders: ['X-Kept'],
    xForwarded: false,
    forwarded: false,
    routes: [{ upstreams: [origin.url] }],
  })
  let seen = JSON.parse((await get(agent, `${custom.url}/`, { headers: smuggled })).text).headers
  assert.equal(seen['x-kept'], undefined)
  assert.equal(seen['x-original-url'], '/admin')
  const keeping = await startProxy(t, { stripRequestHeaders: [], routes: [{ upstreams: [origin.url] }] })
  seen = JSON.parse((await get(agent, `${keeping.url}/`, { headers: smuggled })).text).headers
  assert.equal(seen['x-original-url'], '/admin')
  assert.equal(seen['x-rewrite-url'], '/admin')
})

test('stripRequestHeaders must be a list of header names', () => {
  const routes = [{ upstreams: ['http://127.0.0.1:1'] }]
  assert.deepEqual(resolveOptions({ routes }).stripRequestHeaders, ['x-original-url', 'x-rewrite-url'])
  for (const bad of ['x-original-url', [1], ['bad name']])
    assert.throws(
      () => resolveOptions({ routes, stripRequestHeaders: bad }),
      /stripRequestHeaders: must be an array of header names/,
    )
})
