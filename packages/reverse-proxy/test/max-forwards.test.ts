// Issue 23 item 12: RFC 9110 §7.6.2 binds every intermediary, a gateway too. A TRACE or OPTIONS with
// `Max-Forwards: 0` is answered by the reverse proxy as the final recipient; a larger value is
// decremented on the way; other methods pass it untouched; a value that is not a number is a 400.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest, startOrigin } from '@proxykit/core/testing'
import { startProxy } from './helpers.js'

const send = (port: number, head: string) =>
  rawRequest(port, `${head}Host: site.test\r\nConnection: close\r\n\r\n`)

test('Max-Forwards: 0 on TRACE and OPTIONS is answered by the reverse proxy; larger values are decremented', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const proxy = await startProxy(t, { routes: [{ prefix: '/app', upstreams: [origin.url] }] })

  const trace = await send(
    proxy.port,
    'TRACE /app/x HTTP/1.1\r\nMax-Forwards: 0\r\nCookie: secret=1\r\nX-Echo: me\r\n',
  )
  assert.equal(trace.statusCode, 200)
  assert.match(trace.headers['content-type']!, /^message\/http/)
  const echoed = trace.body.toString()
  assert.match(echoed, /^TRACE \/app\/x HTTP\/1.1\r\n/)
  assert.match(echoed, /X-Echo: me/)
  assert.doesNotMatch(echoed, /secret/)

  const options = await send(proxy.port, 'OPTIONS /app/x HTTP/1.1\r\nMax-Forwards: 0\r\n')
  assert.equal(options.statusCode, 200)
  assert.match(options.headers.allow!, /GET/)
  assert.equal(origin.hits, 0)

  const forwarded = await send(proxy.port, 'OPTIONS /app/x HTTP/1.1\r\nMax-Forwards: 3\r\n')
  assert.equal(forwarded.statusCode, 200)
  assert.equal(origin.requests[0]!.method, 'OPTIONS')
  assert.equal(origin.requests[0]!.headers['max-forwards'], '2')

  await send(proxy.port, 'GET /app/x HTTP/1.1\r\nMax-Forwards: 0\r\n')
  assert.equal(origin.requests[1]!.method, 'GET')
  assert.equal(origin.requests[1]!.headers['max-forwards'], '0')

  const invalid = await send(proxy.port, 'TRACE /app/x HTTP/1.1\r\nMax-Forwards: -1\r\n')
  assert.equal(invalid.statusCode, 400)
  assert.equal(origin.hits, 2)
})
