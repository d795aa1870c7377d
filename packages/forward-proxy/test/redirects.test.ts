import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('redirects are passed back to the client, never followed by the proxy', async (t) => {
  const denied = await startOrigin({ host: '127.0.0.2' })
  const origin = await startOrigin({
    handler: (req, res) => {
      if (req.url === '/go')
        res.writeHead(302, { location: `http://127.0.0.2:${denied.port}/internal` }).end()
      else res.writeHead(404).end()
    },
  })
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close(), denied.close()]))
  const res = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/go HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 302)
  assert.equal(res.headers.location, `http://127.0.0.2:${denied.port}/internal`)
  assert.equal(origin.hits, 1)
  assert.equal(denied.hits, 0)
})
