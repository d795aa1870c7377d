import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('Max-Forwards on TRACE: above 0 it is forwarded decremented; 0 is answered by the proxy itself', async (t) => {
  const origin = await startOrigin()
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const target = `http://127.0.0.1:${origin.port}/trace`

  const forwarded = await send(
    proxy.port,
    `TRACE ${target} HTTP/1.1\r\nHost: x\r\nMax-Forwards: 5\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(forwarded.statusCode, 200)
  assert.equal(origin.hits, 1)
  assert.equal(origin.requests[0]!.method, 'TRACE')
  assert.equal(origin.requests[0]!.url, '/trace')
  assert.equal(origin.requests[0]!.headers['max-forwards'], '4')
  // The origin's own answer came back (its JSON echo), not one made up by the proxy.
  assert.equal(JSON.parse(forwarded.body.toString()).headers['max-forwards'], '4')

  const one = await send(
    proxy.port,
    `TRACE ${target} HTTP/1.1\r\nHost: x\r\nMax-Forwards: 1\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(one.statusCode, 200)
  assert.equal(origin.hits, 2)
  assert.equal(origin.requests[1]!.headers['max-forwards'], '0')

  const here = await send(
    proxy.port,
    `TRACE ${target} HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\nX-Echo: me\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(here.statusCode, 200)
  assert.match(here.headers['content-type']!, /^message\/http/)
  assert.match(here.body.toString(), new RegExp(`^TRACE ${target} HTTP/1.1\r\n`))
  assert.match(here.body.toString(), /\r\nMax-Forwards: 0\r\n/)
  assert.match(here.body.toString(), /\r\nX-Echo: me\r\n/)
  assert.equal(origin.hits, 2, 'a TRACE with Max-Forwards: 0 reached the origin')
})
