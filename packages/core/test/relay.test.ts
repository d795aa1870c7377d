// core's relay: an upstream exchange through undici's dispatch API answered straight on reply.raw. The
// body stream exists only when a response filter asks for it; either way every byte arrives, the head
// passes through the filters, failures before the head go to `failed`, and a client leaving aborts.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { Pool, request as undiciRequest } from 'undici'
import { installProxyContext, type RelayCallbacks, relay, stripHopByHop } from '../src/index.js'
import { startOrigin } from '../src/testing/index.js'

interface Hop {
  url: string
  outcomes: Array<{ kind: 'failed' | 'done'; err: Error | null }>
  close(): Promise<void>
}

/** A minimal reverse hop through `relay`; `setup` may push response filters for each request. */
async function hop(originUrl: string, setup: (request: FastifyRequest) => void = () => {}): Promise<Hop> {
  const pool = new Pool(originUrl, { connections: 4 })
  const fastify = Fastify()
  installProxyContext(fastify)
  const outcomes: Hop['outcomes'] = []
  fastify.get('/*', (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack()
    setup(request)
    const callbacks: RelayCallbacks = {
      headers: (_status, headers) => stripHopByHop(headers),
      failed: (err) => {
        outcomes.push({ kind: 'failed', err })
        reply.raw.writeHead(502, { 'content-type': 'text/plain' })
        reply.raw.end('failed\n')
      },
      done: (err) => outcomes.push({ kind: 'done', err }),
    }
    relay(pool, { method: request.method, path: request.url, headers: {} }, request, reply, callbacks)
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}`
  return {
    url,
    outcomes,
    close: async () => {
      await fastify.close()
      await pool.destroy()
    },
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

test('without filters the body goes straight through: status, headers and every byte of a 4 MiB body', {
  timeout: 15_000,
}, async (t) => {
  const body = Buffer.alloc(4 * 1024 * 1024)
  for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 255
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(203, { 'x-origin': 'yes', 'content-length': body.length, connection: 'keep-alive' })
      res.end(body)
    },
  })
  t.after(() => origin.close())
  const proxy = await hop(origin.url)
  t.after(() => proxy.close())
  const res = await undiciRequest(`${proxy.url}/big`)
  const got = Buffer.from(await res.body.arrayBuffer())
  assert.equal(res.statusCode, 203)
  assert.equal(res.headers['x-origin'], 'yes')
  assert.equal(got.length, body.length)
  assert.equal(sha(got), sha(body))
  assert.deepEqual(
    proxy.outcomes.map((o) => [o.kind, o.err]),
    [['done', null]],
  )
})

test('a filter that reads the body (a tee) sees every byte, and the client gets them too', {
  timeout: 15_000,
}, async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first ')
      setTimeout(() => res.end('second'), 20)
    },
  })
  t.after(() => origin.close())
  const teed: Buffer[] = []
  const proxy = await hop(origin.url, (request) => {
    request.proxy.responseFilters.push((_request, response) => {
      response.headers['x-filtered'] = String(response.statusCode)
      response.body?.on('data', (chunk: Buffer) => teed.push(chunk))
    })
  })
  t.after(() => proxy.close())
  const res = await undiciRequest(`${proxy.url}/tee`)
  assert.equal(await res.body.text(), 'first second')
  assert.equal(res.headers['x-filtered'], '200')
  assert.equal(Buffer.concat(teed).toString(), 'first second')
})

test('a filter that replaces the body: the replacement is sent and the upstream body dropped', {
  timeout: 15_000,
}, async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain', 'content-length': 8 })
      res.end('upstream')
    },
  })
  t.after(() => origin.close())
  const proxy = await hop(origin.url, (request) => {
    request.proxy.responseFilters.push((_request, response) => {
      response.body?.destroy()
      response.statusCode = 200
      response.headers = { 'content-type': 'text/plain', 'content-length': '6' }
      response.body = Readable.from([Buffer.from('stored')])
    })
  })
  t.after(() => proxy.close())
  const res = await undiciRequest(`${proxy.url}/replace`)
  assert.equal(res.statusCode, 200)
  assert.equal(await res.body.text(), 'stored')
  // The proxy stays usable for the next request on its upstream pool.
  const again = await undiciRequest(`${proxy.url}/replace`)
  assert.equal(await again.body.text(), 'stored')
})

test('an upstream that refuses the connection goes to failed, and nothing else is written', {
  timeout: 15_000,
}, async (t) => {
  // A port that was just listened on and closed: connecting to it is refused.
  const probe = net.createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = (probe.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const proxy = await hop(`http://127.0.0.1:${port}`)
  t.after(() => proxy.close())
  const res = await undiciRequest(`${proxy.url}/refused`)
  assert.equal(res.statusCode, 502)
  assert.equal(await res.body.text(), 'failed\n')
  assert.equal(proxy.outcomes.length, 1)
  assert.equal(proxy.outcomes[0]!.kind, 'failed')
  assert.equal((proxy.outcomes[0]!.err as { code?: string }).code, 'ECONNREFUSED')
})

test('a client leaving mid-body aborts the upstream request, reported once to done', {
  timeout: 15_000,
}, async (t) => {
  let upstreamClosed!: () => void
  const closed = new Promise<void>((resolve) => {
    upstreamClosed = resolve
  })
  const origin = await startOrigin({
    handler: (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(64 * 1024))
      // Never ends by itself: only the proxy aborting ends this response.
      req.socket.once('close', upstreamClosed)
    },
  })
  t.after(() => origin.close())
  const proxy = await hop(origin.url)
  t.after(() => proxy.close())
  const ac = new AbortController()
  const res = await undiciRequest(`${proxy.url}/endless`, { signal: ac.signal })
  await once(res.body, 'data')
  ac.abort()
  await closed
  // done() runs as the abort settles.
  for (let i = 0; i < 50 && proxy.outcomes.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(proxy.outcomes.length, 1)
  assert.equal(proxy.outcomes[0]!.kind, 'done')
  assert.notEqual(proxy.outcomes[0]!.err, null)
})
