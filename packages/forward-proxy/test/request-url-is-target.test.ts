// Issue 21.8: with `logger: true`, Fastify's 'incoming request' line said url "/__proxykit/forward" and an
// app's hook read the same from `request.url`. Both show the client's target: `http://host/path` for
// absolute-form, `host:port` for CONNECT; origin-form requests to the app's routes are unchanged.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { installProxyContext } from '@proxykit/core'
import { startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import forwardProxy from '../src/index.js'
import { loopbackLookup, openTunnel, send } from './helpers.js'

test('Fastify’s request log and request.url carry the forward target, for absolute-form and CONNECT', async (t) => {
  const origin = await startOrigin()
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l))
      done()
    },
  })
  const app = Fastify({ logger: { level: 'info', stream } })
  installProxyContext(app)
  const seen: string[] = []
  app.addHook('onRequest', async (request) => {
    seen.push(request.url)
  })
  app.get('/health', async () => 'ok')
  await app.register(forwardProxy, {
    allow: ['loopback'],
    connectPorts: [origin.port],
    lookup: loopbackLookup,
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  t.after(() => Promise.all([app.close(), origin.close()]))

  const target = `http://127.0.0.1:${origin.port}/path/x?q=1`
  const res = await send(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
  assert.equal(res.statusCode, 200)
  assert.equal(JSON.parse(res.body.toString()).url, '/path/x?q=1', 'the origin still gets origin-form')

  const tunnel = await openTunnel(port, origin.port)
  tunnel.destroy()

  const local = await send(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(local.body.toString(), 'ok')

  const authority = `127.0.0.1:${origin.port}`
  assert.deepEqual(seen, [target, authority, '/health'])
  const incoming = lines.filter((l) => l.msg === 'incoming request').map((l) => l.req.url)
  assert.deepEqual(incoming, [target, authority, '/health'])
  assert.ok(!JSON.stringify(lines).includes('__proxykit'), 'no log line names an internal path')
  const completed = lines.filter((l) => l.msg === 'request completed')
  assert.ok(completed.length >= 2, 'request completed lines are still written')
})
