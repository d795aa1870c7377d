// RFC 9110 §15.2: a proxy forwards the 1xx responses it did not ask for. An origin's 103 Early Hints
// reach the client before the final answer; `100 Continue` stays Node's own single answer to `Expect`.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { requestWithInterim, startOrigin } from '@proxykit/core/testing'
import { startProxy } from './helpers.js'

async function hintingOrigin(t: import('node:test').TestContext) {
  const origin = await startOrigin({
    // Called once the request body is read: the hints come after the upstream's own 100 Continue.
    handler: (_req, res, body) => {
      res.writeEarlyHints({ link: ['</style.css>; rel=preload; as=style', '</app.js>; rel=preload'] })
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(`final ${body.length}`)
    },
  })
  t.after(() => origin.close())
  return origin
}

test('103 Early Hints go through the reverse proxy before the final answer', async (t) => {
  const origin = await hintingOrigin(t)
  const proxy = await startProxy(t, { routes: [{ prefix: '/', upstreams: [origin.url] }] })
  const r = await requestWithInterim(proxy.port, '/page')
  assert.deepEqual(
    r.interim.map((i) => i.statusCode),
    [103],
  )
  assert.equal(r.interim[0]!.headers.link, '</style.css>; rel=preload; as=style, </app.js>; rel=preload')
  assert.equal(r.statusCode, 200)
  assert.equal(r.body, 'final 0')
})

test('Expect: 100-continue gets exactly one 100 Continue, then the hints and the final answer', async (t) => {
  const origin = await hintingOrigin(t)
  const proxy = await startProxy(t, { routes: [{ prefix: '/', upstreams: [origin.url] }] })
  const r = await requestWithInterim(proxy.port, '/upload', { body: 'twelve bytes' })
  assert.deepEqual(
    r.interim.map((i) => i.statusCode),
    [100, 103],
  )
  assert.equal(r.statusCode, 200)
  assert.equal(r.body, 'final 12')
})
