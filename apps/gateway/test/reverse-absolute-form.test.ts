// Issue 23 item 9 through the gateway's reverse listener: `GET http://b.test/admin` sent with
// `Host: a.test` is routed, checked and forwarded as b.test's `/admin` (RFC 9112 §3.2.2), so b.test's
// deny list applies to it; a host no route serves reaches no upstream.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rawRequest, startOrigin } from '@proxykit/core/testing'
import { forwardProxy } from '@proxykit/forward-proxy'
import { reverseProxy } from '@proxykit/reverse-proxy'
import Fastify from 'fastify'
import { startCli, writeConfig } from './helpers/cli.js'

const send = (port: number, target: string, host: string) =>
  rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)

test('the reverse listener routes and checks an absolute-form request by its target’s host', async (t) => {
  const a = await startOrigin()
  const b = await startOrigin()
  t.after(() => Promise.all([a.close(), b.close()]))
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        { name: 'a', host: 'a.test', upstreams: [a.url] },
        { name: 'b', host: 'b.test', upstreams: [b.url], deny: ['/admin'] },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const port = Number(new URL(gw.urls.reverse!).port)

  assert.equal((await send(port, 'http://b.test/admin', 'a.test')).statusCode, 403)
  assert.equal((await send(port, 'http://b.test/page', 'a.test')).statusCode, 200)
  assert.equal((await send(port, 'http://other.test/page', 'a.test')).statusCode, 404)
  assert.equal(a.hits, 0)
  assert.deepEqual(
    b.requests.map((r) => [r.url, r.headers['x-forwarded-host']]),
    [['/page', 'b.test']],
  )
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.status === 403)
  assert.equal(line.rule, 'b:deny')
  assert.equal(await gw.stop(), 0)
})

test('with the forward proxy on the same server, absolute-form stays the forward proxy’s', async (t) => {
  const origin = await startOrigin()
  const site = await startOrigin()
  t.after(() => Promise.all([origin.close(), site.close()]))
  for (const order of ['forward first', 'reverse first']) {
    const app = Fastify()
    const forward = () => app.register(forwardProxy, { allow: ['loopback'] })
    const reverse = () => app.register(reverseProxy, { routes: [{ upstreams: [site.url] }] })
    if (order === 'forward first') await forward().then(reverse)
    else await reverse().then(forward)
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(() => app.close())
    const port = (app.server.address() as { port: number }).port
    const res = await send(port, `${origin.url}/fwd`, 'a.test')
    assert.equal(res.statusCode, 200, order)
    assert.equal(JSON.parse(res.body.toString()).url, '/fwd', order)
  }
  assert.equal(origin.hits, 2)
  assert.equal(site.hits, 0)
})
