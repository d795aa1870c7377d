import assert from 'node:assert/strict'
import { test } from 'node:test'
import { installProxyContext } from '@proxykit/core'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('request.proxy.connectGuards (pushed by another plugin in onRequest) can deny the resolved address', async (t) => {
  const origin = await startOrigin()
  const seen: string[] = []
  const proxy = await startProxy({ connectPorts: [origin.port] }, (app) => {
    installProxyContext(app)
    app.addHook('onRequest', async (request) => {
      const deny = request.headers['x-test-deny'] !== undefined
      request.proxy.connectGuards.push((address, family, req) => {
        seen.push(`${address}/${family}/${req === request}`)
        return deny ? `rule "no-${address}"` : null
      })
    })
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const allowed = await send(
    proxy.port,
    `GET http://2130706433:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(allowed.statusCode, 200)
  const denied = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nX-Test-Deny: 1\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(denied.statusCode, 403)
  assert.match(denied.body.toString(), /no-127\.0\.0\.1/)
  const deniedTunnel = await send(
    proxy.port,
    `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nX-Test-Deny: 1\r\n\r\n`,
  )
  assert.equal(deniedTunnel.statusCode, 403)
  assert.deepEqual(seen, ['127.0.0.1/4/true', '127.0.0.1/4/true', '127.0.0.1/4/true'])
  assert.equal(origin.hits, 1)
})
