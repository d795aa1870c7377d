import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin, startTlsOrigin } from '@proxykit/core/testing'
import { ProxyAgent, request } from 'undici'
import { startProxy } from './helpers.js'

test("undici's ProxyAgent: http:// through absolute-form and https:// through a tunnel", async (t) => {
  const origin = await startOrigin()
  const tls = await startTlsOrigin()
  const proxy = await startProxy({ connectPorts: [tls.port] })
  const tunnelling = new ProxyAgent({ uri: proxy.url, requestTls: { ca: tls.cert } })
  const absolute = new ProxyAgent({ uri: proxy.url, proxyTunnel: false })
  t.after(async () => {
    await Promise.all([tunnelling.close(), absolute.close()])
    await Promise.all([proxy.app.close(), origin.close(), tls.close()])
  })

  const viaAbsolute = await request(`${origin.url}/plain`, { dispatcher: absolute })
  assert.equal(viaAbsolute.statusCode, 200)
  assert.equal(((await viaAbsolute.body.json()) as { url: string }).url, '/plain')

  const viaTunnel = await request(`${tls.url}/secret`, { dispatcher: tunnelling })
  assert.equal(viaTunnel.statusCode, 200)
  assert.equal(((await viaTunnel.body.json()) as { url: string }).url, '/secret')

  // undici's default for http:// is a tunnel too: CONNECT to a port outside the policy is refused.
  await assert.rejects(request(`${origin.url}/x`, { dispatcher: tunnelling }), /403/)
  assert.equal(origin.hits, 1)
  assert.equal(tls.hits, 1)
})
