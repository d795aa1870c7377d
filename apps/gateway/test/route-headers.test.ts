// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${clientIp}` and the like are the config's own variables, not template literals
// Issue 27 item 1: `headers.request` reaches the upstream and `headers.response` the client, with the
// variables expanded, on a proxied answer and on a cache hit alike.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('route headers: set, add and remove on the way up and down, variables expanded, cache hits too', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      const body = JSON.stringify({ url: req.url, headers: req.headers })
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'max-age=60',
        vary: 'accept-encoding',
        'x-powered-by': 'php',
        'x-upstream-secret': 'abc',
      })
      res.end(body)
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      headers: { response: { set: { 'x-served-by': 'gateway' } } },
      routes: [
        {
          prefix: '/api',
          cache: true,
          upstreams: [origin.url],
          headers: {
            request: {
              set: {
                'x-request-id': '${requestId}',
                'x-client': '${clientIp}',
                'x-origin': '${scheme}://${host}',
              },
              add: { 'x-tag': 'two' },
              remove: ['cookie'],
            },
            response: {
              set: { 'x-frame-options': 'DENY', 'x-price': '$$5' },
              add: { vary: 'origin' },
              remove: ['x-powered-by', 'x-upstream-secret'],
            },
          },
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const port = new URL(gw.urls.reverse!).port

  const first = await request(`${gw.urls.reverse}/api/x`, {
    headers: { cookie: 'sid=1', 'x-tag': 'one', host: `app.test:${port}` },
  })
  const seen = (await first.body.json()) as { headers: Record<string, string> }
  assert.equal(first.statusCode, 200)
  assert.equal(seen.headers.cookie, undefined, 'cookie removed before the upstream')
  assert.equal(seen.headers['x-client'], '127.0.0.1')
  assert.match(seen.headers['x-request-id']!, /\S/)
  assert.equal(seen.headers['x-origin'], 'http://app.test')
  assert.equal(seen.headers['x-tag'], 'one, two', 'add keeps the client value beside the new one')
  {
    const response = first
    assert.equal(response.headers['x-frame-options'], 'DENY')
    assert.equal(response.headers['x-price'], '$5')
    assert.equal(response.headers['x-powered-by'], undefined)
    assert.equal(response.headers['x-upstream-secret'], undefined)
    assert.equal(response.headers['x-served-by'], 'gateway', "the listener's default applies too")
    assert.deepEqual(String(response.headers.vary).split(/,\s*/).sort(), ['accept-encoding', 'origin'])
  }

  // The second one is a cache hit (the origin is not asked again) and gets the same response headers.
  const hit = await curl(['-i', '-H', `host: app.test:${port}`, `${gw.urls.reverse}/api/x`])
  assert.equal(origin.hits, 1, 'answered from the cache')
  const head = hit.stdout.slice(0, hit.stdout.indexOf('\r\n\r\n')).toLowerCase()
  assert.match(head, /^cache-status: .*hit/m)
  assert.match(head, /^x-frame-options: deny$/m)
  assert.doesNotMatch(head, /x-powered-by|x-upstream-secret/)
  assert.match(head, /^vary: .*origin/m)

  // A request no route takes (404) still gets the listener's response headers.
  const missing = await request(`${gw.urls.reverse}/elsewhere`)
  await missing.body.dump()
  assert.equal(missing.statusCode, 404)
  assert.equal(missing.headers['x-served-by'], 'gateway')
  assert.equal(await gw.stop(), 0)
})
