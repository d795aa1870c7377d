import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTcpOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('CONNECT reaches only the configured ports (443 by default)', async (t) => {
  const origin = await startTcpOrigin()
  const byDefault = await startProxy()
  const opened = await startProxy({ connectPorts: [origin.port] })
  t.after(() => Promise.all([byDefault.app.close(), opened.app.close(), origin.close()]))

  const refused = await send(
    byDefault.port,
    `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`,
  )
  assert.equal(refused.statusCode, 403)
  assert.match(refused.text, new RegExp(`port ${origin.port} is not allowed`))
  assert.equal(origin.connections, 0)

  const allowed = await send(
    opened.port,
    `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\nping`,
  )
  assert.equal(allowed.statusCode, 200)
  assert.equal(allowed.body.toString(), 'ping')
  assert.equal(origin.connections, 1)
})
