import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('Max-Forwards: 0 on TRACE and OPTIONS is answered by the proxy; larger values are decremented', async (t) => {
  const origin = await startOrigin()
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const target = `http://127.0.0.1:${origin.port}/m`

  const trace = await send(
    proxy.port,
    `TRACE ${target} HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\nCookie: secret=1\r\nX-Echo: me\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(trace.statusCode, 200)
  assert.match(trace.headers['content-type']!, /^message\/http/)
  assert.match(trace.body.toString(), new RegExp(`^TRACE ${target} HTTP/1.1\r\n`))
  assert.match(trace.body.toString(), /X-Echo: me/)
  assert.doesNotMatch(trace.body.toString(), /secret/)

  const options = await send(
    proxy.port,
    `OPTIONS ${target} HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(options.statusCode, 200)
  assert.match(options.headers.allow!, /GET/)
  assert.equal(origin.hits, 0)

  const forwarded = await send(
    proxy.port,
    `OPTIONS ${target} HTTP/1.1\r\nHost: x\r\nMax-Forwards: 3\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(forwarded.statusCode, 200)
  assert.equal(origin.requests[0]!.headers['max-forwards'], '2')

  // Other methods pass it through untouched.
  await send(proxy.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\nConnection: close\r\n\r\n`)
  assert.equal(origin.requests[1]!.headers['max-forwards'], '0')

  const invalid = await send(
    proxy.port,
    `TRACE ${target} HTTP/1.1\r\nHost: x\r\nMax-Forwards: -1\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(invalid.statusCode, 400)
})
