// The forward routes put the client's target back on `req.url` without a child-logger factory of their
// own (one cost a child logger and its validation per request even with logging off), so an app's own
// `setChildLoggerFactory` applies to forward requests as to its other routes, and its `requestIdHeader`
// still names the request: Fastify's log shows the app's bindings, the client's id and the real target.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import Fastify from 'fastify'
import forwardProxy from '../src/index.js'
import { loopbackLookup, openTunnel, send } from './helpers.js'

test('an app’s child-logger factory and request-id header apply to forward requests, which log their target', async (t) => {
  const origin = await startOrigin()
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l))
      done()
    },
  })
  const app = Fastify({ logger: { level: 'info', stream }, requestIdHeader: 'x-request-id' })
  const factoryUrls: string[] = []
  app.setChildLoggerFactory((logger, bindings, options, raw) => {
    factoryUrls.push(raw.url ?? '')
    return logger.child({ ...bindings, app: 'mine' }, options)
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

  const target = `http://127.0.0.1:${origin.port}/a?q=1`
  const res = await send(
    port,
    `GET ${target} HTTP/1.1\r\nHost: x\r\nX-Request-Id: client-1\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 200)
  const tunnel = await openTunnel(port, origin.port)
  tunnel.destroy()
  const local = await send(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(local.body.toString(), 'ok')

  const authority = `127.0.0.1:${origin.port}`
  assert.deepEqual(factoryUrls, [target, authority, '/health'], 'the app’s factory ran, seeing the target')
  const incoming = lines.filter((l) => l.msg === 'incoming request')
  assert.deepEqual(
    incoming.map((l) => [l.req.url, l.app]),
    [
      [target, 'mine'],
      [authority, 'mine'],
      ['/health', 'mine'],
    ],
  )
  assert.equal(incoming[0]!.reqId, 'client-1', 'the client’s X-Request-Id names the forward request')
})
