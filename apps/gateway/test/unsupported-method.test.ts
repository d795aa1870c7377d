// Issue 26.14: a method Node accepts but nothing routes (M-SEARCH, PURGE …) got Fastify's 404, which on the
// forward listener named the internal route (`Route M-SEARCH:/__proxykit/forward not found`). Both
// listeners answer 501 (RFC 9110 §15.6.2) without internal names; a known method on an unknown path is
// still a 404.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest, startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

const ask = (url: string, head: string) =>
  rawRequest(Number(new URL(url).port), `${head}\r\nHost: x\r\nConnection: close\r\n\r\n`, {
    idleMs: 2000,
    timeoutMs: 15_000,
  })

test('methods that are not proxied get 501 on both listeners, naming nothing internal', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'] },
    reverse: { listen: '127.0.0.1:0', routes: [{ prefix: '/api', upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward', 'reverse'])
  for (const method of ['M-SEARCH', 'PURGE', 'LINK']) {
    const forward = await ask(gw.urls.forward!, `${method} ${origin.url}/ HTTP/1.1`)
    assert.equal(forward.statusCode, 501, `forward ${method}`)
    assert.doesNotMatch(forward.text, /__proxykit/)
    const reverse = await ask(gw.urls.reverse!, `${method} /api/x HTTP/1.1`)
    assert.equal(reverse.statusCode, 501, `reverse ${method}`)
    assert.doesNotMatch(reverse.text, /__proxykit|Route /)
  }
  assert.equal(origin.hits, 0)
  const unknownPath = await ask(gw.urls.reverse!, 'GET /nope HTTP/1.1')
  assert.equal(unknownPath.statusCode, 404)
  assert.match(unknownPath.text, /Route GET:\/nope not found/)
  assert.equal((await ask(gw.urls.reverse!, 'GET /api/x HTTP/1.1')).statusCode, 200)
  assert.equal(await gw.stop(), 0)
})
