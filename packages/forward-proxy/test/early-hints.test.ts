// RFC 9110 §15.2: the forward proxy passes an origin's 103 Early Hints on to the client of a plain-HTTP
// (absolute-form) request before the final answer.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { requestWithInterim, startOrigin } from '@proxykit/core/testing'
import { startProxy } from './helpers.js'

test('103 Early Hints reach the client through the forward proxy', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('final')
    },
  })
  t.after(() => origin.close())
  const proxy = await startProxy()
  t.after(() => proxy.app.close())
  const r = await requestWithInterim(proxy.port, `${origin.url}/page`)
  assert.deepEqual(
    r.interim.map((i) => i.statusCode),
    [103],
  )
  assert.equal(r.interim[0]!.headers.link, '</style.css>; rel=preload; as=style')
  assert.equal(r.statusCode, 200)
  assert.equal(r.body, 'final')
})
