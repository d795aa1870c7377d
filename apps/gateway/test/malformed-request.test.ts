import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest, startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('a request the HTTP parser refuses gets a 400, an access line and a count, and never reaches an upstream', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const port = Number(new URL(gw.urls.reverse!).port)
  // Content-Length with Transfer-Encoding: the classic request-smuggling shape.
  const res = await rawRequest(
    port,
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  )
  assert.equal(res.statusCode, 400)
  assert.equal(origin.hits, 0)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.route === 'malformed')
  assert.equal(line.listener, 'reverse')
  assert.equal(line.status, 400)
  assert.match(String(line.error), /^HPE_/)
  const metrics = await (await fetch(`${gw.urls.admin}/metrics`)).text()
  assert.match(metrics, /^proxykit_requests_total\{listener="reverse",route="malformed",status="400"\} 1$/m)
  // The gateway is still serving.
  assert.equal((await fetch(`${gw.urls.reverse}/ok`)).status, 200)
  assert.equal(await gw.stop(), 0)
})
