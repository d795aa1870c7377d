// The proxies' shared response path: response filters, the head on reply.raw, the body streamed with
// backpressure, and the upstream body destroyed when the client goes away.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import net from 'node:net'
import { Transform } from 'node:stream'
import { test } from 'node:test'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { request as undiciRequest } from 'undici'
import {
  installProxyContext,
  sendUpstreamResponse,
  stripHopByHop,
  type UpstreamResponse,
} from '../src/index.js'
import { type OriginHandler, rawRequest, startOrigin } from '../src/testing/index.js'

interface Done {
  err: Error | null
  body: UpstreamResponse['body']
}

/** A minimal reverse hop: every request goes to `originUrl` and comes back through sendUpstreamResponse. */
async function hop(
  originUrl: string,
  setup: (request: FastifyRequest) => void = () => {},
  onDone: (done: Done) => void = () => {},
) {
  const fastify = Fastify()
  installProxyContext(fastify)
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack()
    setup(request)
    const upstream = await undiciRequest(`${originUrl}${request.url}`, { method: request.method as 'GET' })
    const response: UpstreamResponse = {
      statusCode: upstream.statusCode,
      headers: stripHopByHop(upstream.headers),
      body: upstream.statusCode === 204 ? null : upstream.body,
    }
    sendUpstreamResponse(request, reply, response, (err) => onDone({ err, body: response.body }))
  }
  // GET routes answer HEAD too (Fastify's exposeHeadRoutes), with request.method 'HEAD'.
  fastify.get('/*', handler)
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  return { fastify, url: `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}` }
}

const fixed =
  (body: string, status = 200): OriginHandler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', 'x-origin': 'yes', 'content-length': body.length })
    res.end(body)
  }

test('filters run in order, may change the headers and replace the body', async (t) => {
  const origin = await startOrigin({ handler: fixed('hello world') })
  t.after(() => origin.close())
  const order: string[] = []
  const proxy = await hop(origin.url, (request) => {
    request.proxy.responseFilters.push((_req, response) => {
      order.push('first')
      response.headers['cache-status'] = 'proxykit; fwd=miss'
      delete response.headers['content-length']
      const upper = new Transform({
        transform(chunk, _enc, cb) {
          cb(null, chunk.toString().toUpperCase())
        },
      })
      response.body = response.body!.pipe(upper)
    })
    request.proxy.responseFilters.push((_req, response) => {
      order.push('second')
      assert.equal(response.headers['cache-status'], 'proxykit; fwd=miss')
      response.statusCode = 203
    })
  })
  t.after(() => proxy.fastify.close())
  const res = await undiciRequest(`${proxy.url}/x`)
  assert.equal(res.statusCode, 203)
  assert.equal(res.headers['cache-status'], 'proxykit; fwd=miss')
  assert.equal(res.headers['x-origin'], 'yes')
  assert.equal(await res.body.text(), 'HELLO WORLD')
  assert.deepEqual(order, ['first', 'second'])
})

test('without filters the upstream answer passes unchanged; onDone gets null', async (t) => {
  const origin = await startOrigin({ handler: fixed('abc', 201) })
  t.after(() => origin.close())
  let done: Done | undefined
  const proxy = await hop(origin.url, undefined, (d) => {
    done = d
  })
  t.after(() => proxy.fastify.close())
  const res = await undiciRequest(`${proxy.url}/`)
  assert.equal(res.statusCode, 201)
  assert.equal(res.headers['content-length'], '3')
  assert.equal(await res.body.text(), 'abc')
  assert.equal(done?.err, null)
})

test('HEAD and bodiless responses write no body', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204)
        res.end()
        return
      }
      res.writeHead(200, { 'content-length': '5' })
      res.end(req.method === 'HEAD' ? undefined : 'hello')
    },
  })
  t.after(() => origin.close())
  const proxy = await hop(origin.url)
  t.after(() => proxy.fastify.close())
  const port = new URL(proxy.url).port
  const head = await rawRequest(Number(port), 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n')
  assert.equal(head.statusCode, 200)
  assert.equal(head.headers['content-length'], '5')
  assert.equal(head.body.length, 0)
  const empty = await undiciRequest(`${proxy.url}/empty`)
  assert.equal(empty.statusCode, 204)
  assert.equal(await empty.body.text(), '')
})

test('a client that disconnects mid-stream: the upstream body is destroyed and the origin sees it', async (t) => {
  let originResponse: ServerResponse | undefined
  let timer: NodeJS.Timeout | undefined
  const origin = await startOrigin({
    handler: (_req, res) => {
      originResponse = res
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      let sent = 0
      // Bounded: at most 2000 chunks of 16 KiB, one every 5 ms.
      timer = setInterval(() => {
        if (sent++ >= 2000 || res.destroyed) {
          clearInterval(timer)
          res.end()
          return
        }
        res.write(Buffer.alloc(16 * 1024, 0x61))
      }, 5)
    },
  })
  t.after(() => origin.close())
  let resolveDone: (d: Done) => void = () => {}
  const finished = new Promise<Done>((r) => {
    resolveDone = r
  })
  const proxy = await hop(origin.url, undefined, (d) => resolveDone(d))
  t.after(async () => {
    clearInterval(timer)
    await proxy.fastify.close()
  })

  const socket = net.connect(Number(new URL(proxy.url).port), '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write('GET /stream HTTP/1.1\r\nHost: a\r\n\r\n')
  let received = 0
  await new Promise<void>((resolve) => {
    socket.on('data', (c: Buffer) => {
      received += c.length
      if (received > 64 * 1024) resolve()
    })
  })
  socket.destroy()

  const done = await finished
  assert.ok(done.err instanceof Error, 'onDone gets the error')
  assert.equal(done.body?.destroyed, true, 'the upstream body is destroyed')
  // The origin's response is closed before it could finish: the upstream request was aborted.
  assert.ok(originResponse)
  if (!originResponse.destroyed) await once(originResponse, 'close')
  assert.equal(originResponse.writableFinished, false)
})

test('an upstream body that fails midway cuts the client response short', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' })
      res.write('x'.repeat(100))
      setTimeout(() => res.destroy(), 50)
    },
  })
  t.after(() => origin.close())
  let resolveDone: (d: Done) => void = () => {}
  const finished = new Promise<Done>((r) => {
    resolveDone = r
  })
  const proxy = await hop(origin.url, undefined, (d) => resolveDone(d))
  t.after(() => proxy.fastify.close())
  const res = await rawRequest(Number(new URL(proxy.url).port), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', {
    idleMs: 3000,
  })
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-length'], '1000')
  assert.equal(res.body.length, 100)
  const done = await finished
  assert.ok(done.err instanceof Error)
})
