import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTlsOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('https:// in absolute-form is proxied over TLS, with the certificate verified', async (t) => {
  const origin = await startTlsOrigin()
  const lookup = async () => [{ address: '127.0.0.1', family: 4 }]
  const trusting = await startProxy({ tls: { ca: origin.cert }, lookup })
  const strict = await startProxy()
  t.after(() => Promise.all([trusting.app.close(), strict.app.close(), origin.close()]))

  const ok = await send(
    trusting.port,
    `GET https://localhost:${origin.port}/tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(ok.statusCode, 200)
  const echoed = JSON.parse(ok.body.toString())
  assert.equal(echoed.url, '/tls')
  assert.equal(echoed.headers.host, `localhost:${origin.port}`)

  // A self-signed certificate the proxy was not told to trust is a 502, never a silent downgrade.
  const refused = await send(
    strict.port,
    `GET https://127.0.0.1:${origin.port}/tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(refused.statusCode, 502)
  assert.match(refused.body.toString(), /SELF_SIGNED|certificate/i)
  assert.equal(origin.hits, 1)
})
