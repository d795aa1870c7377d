import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTlsOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('https upstreams: verified against the given CA, refused (502) without it', async (t) => {
  const origin = await startTlsOrigin()
  t.after(() => origin.close())
  const trusted = await startProxy(t, { routes: [{ upstreams: [origin.url], tls: { ca: origin.cert } }] })
  const agent = client(t)
  const r = await get(agent, `${trusted.url}/secure?x=1`)
  assert.equal(r.status, 200)
  assert.equal(JSON.parse(r.text).url, '/secure?x=1')
  assert.equal(
    JSON.parse(r.text).headers['x-forwarded-proto'],
    'http',
    'the client’s scheme, not the upstream’s',
  )

  const untrusted = await startProxy(t, { routes: [{ upstreams: [origin.url], retries: false }] })
  const bad = await get(agent, `${untrusted.url}/secure`)
  assert.equal(bad.status, 502, 'a certificate we cannot verify is a failed upstream, not a silent downgrade')
})
