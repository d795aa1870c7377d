import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const body = line.slice(name.length + 1, line.lastIndexOf('}'))
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`)))
      return Number(line.split(' ').pop())
  }
  return undefined
}

test('/metrics counts requests by listener, route and status, and the cache and denials', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60' })
      res.end('ok')
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ name: 'web', prefix: '/', upstreams: [origin.url], cache: true, deny: ['/private'] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  for (let i = 0; i < 3; i++) await (await fetch(`${gw.urls.reverse}/same`)).arrayBuffer()
  await (await fetch(`${gw.urls.reverse}/private`)).arrayBuffer()
  const res = await fetch(`${gw.urls.admin}/metrics`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/)
  const text = await res.text()
  assert.equal(
    sample(text, 'proxykit_requests_total', { listener: 'reverse', route: 'web', status: '200' }),
    3,
  )
  assert.equal(
    sample(text, 'proxykit_requests_total', { listener: 'reverse', route: 'web', status: '403' }),
    1,
  )
  assert.equal(
    sample(text, 'proxykit_request_duration_seconds_count', { listener: 'reverse', route: 'web' }),
    4,
  )
  assert.equal(sample(text, 'proxykit_cache_requests_total', { listener: 'reverse', result: 'hit' }), 2)
  assert.equal(sample(text, 'proxykit_cache_requests_total', { listener: 'reverse', result: 'miss' }), 1)
  assert.equal(sample(text, 'proxykit_cache_stores_total', { listener: 'reverse' }), 1)
  assert.equal(sample(text, 'proxykit_access_denials_total', { listener: 'reverse', rule: 'web:deny' }), 1)
  assert.equal(sample(text, 'proxykit_upstream_healthy', { route: 'web', upstream: origin.url }), 1)
  assert.equal(sample(text, 'proxykit_upstream_in_flight', { route: 'web', upstream: origin.url }), 0)
  assert.match(text, /^proxykit_cache_bytes \d+/m)
  assert.match(text, /^proxykit_tunnels_open 0/m)
  assert.equal(origin.hits, 1)
  assert.equal(await gw.stop(), 0)
})
