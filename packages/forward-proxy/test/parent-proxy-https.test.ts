import assert from 'node:assert/strict'
import { test } from 'node:test'
import { installProxyContext } from '@proxykit/core'
import { startTlsOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('https:// absolute-form through a parent proxy: a CONNECT tunnel to the parent, TLS verified end to end', async (t) => {
  const origin = await startTlsOrigin()
  const seenByParent: string[] = []
  const parent = await startProxy({ connectPorts: [origin.port] }, (app) => {
    installProxyContext(app)
    app.addHook('onRequest', async (request) => {
      seenByParent.push(`${request.method} ${request.proxy.form} ${request.proxy.target?.authority}`)
    })
  })
  // Trusts the test CA (the origin's self-signed certificate) through the forward proxy's own tls option.
  const trusting = await startProxy({ parentProxy: parent.url, tls: { ca: origin.cert } })
  const strict = await startProxy({ parentProxy: parent.url })
  t.after(() => Promise.all([trusting.app.close(), strict.app.close(), parent.app.close(), origin.close()]))

  const ok = await send(
    trusting.port,
    `GET https://localhost:${origin.port}/secure?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(ok.statusCode, 200, ok.body.toString())
  const echoed = JSON.parse(ok.body.toString())
  assert.equal(echoed.url, '/secure?q=1')
  assert.equal(echoed.headers.host, `localhost:${origin.port}`)
  // The parent only saw a tunnel: the request itself went inside TLS.
  assert.deepEqual(seenByParent, [`CONNECT authority localhost:${origin.port}`])

  // Without the CA the origin's self-signed certificate is refused: a 502, never a silent downgrade.
  const refused = await send(
    strict.port,
    `GET https://localhost:${origin.port}/secure HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(refused.statusCode, 502)
  assert.match(refused.body.toString(), /SELF_SIGNED|certificate/i)
  assert.equal(origin.hits, 1)
})
