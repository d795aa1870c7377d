// Issue 21: the headers an app's hooks set (@fastify/cors, its own onRequest hooks) are on forward-proxied
// (absolute-form) answers too, the hook's value winning over the origin's except for framing headers; and
// on the proxy's own error answers.
import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { test } from 'node:test'
import cors from '@fastify/cors'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1')
  await new Promise((r) => s.once('listening', r))
  const { port } = s.address() as AddressInfo
  await new Promise((r) => s.close(r))
  return port
}

test('absolute-form answers and errors carry the app hooks’ headers; framing stays the origin’s', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': '5',
        'access-control-allow-origin': '*',
        'x-origin-only': 'kept',
      })
      res.end('hello')
    },
  })
  const closed = await closedPort()
  const proxy = await startProxy({}, async (app) => {
    await app.register(cors, { origin: 'https://front.test' })
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('x-app', 'hook').header('content-length', '1')
    })
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const res = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/x HTTP/1.1\r\nHost: x\r\nOrigin: https://front.test\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['access-control-allow-origin'], 'https://front.test')
  assert.equal(res.headers['x-app'], 'hook')
  assert.equal(res.headers['x-origin-only'], 'kept')
  assert.equal(res.headers['content-length'], '5')
  assert.equal(res.body.toString(), 'hello')

  const refused = await send(
    proxy.port,
    `GET http://127.0.0.1:${closed}/x HTTP/1.1\r\nHost: x\r\nOrigin: https://front.test\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(refused.statusCode, 502)
  assert.equal(refused.headers['access-control-allow-origin'], 'https://front.test')
  assert.equal(refused.headers['x-app'], 'hook')
})
