// The proxies answer on reply.raw after reply.hijack(), so onSend does not run for them; the pipeline's
// last phase (access log, metrics, health feedback) relies on onResponse still running. This pins it.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import Fastify from 'fastify'
import { installProxyContext, sendUpstreamResponse } from '../src/index.js'
import { rawRequest } from '../src/testing/index.js'

test('onResponse runs for a hijacked reply answered by sendUpstreamResponse; onSend does not', async (t) => {
  const fastify = Fastify()
  installProxyContext(fastify)
  const phases: string[] = []
  let resolveLogged: () => void = () => {}
  const logged = new Promise<void>((r) => {
    resolveLogged = r
  })
  fastify.addHook('onSend', async (_request, _reply, payload) => {
    phases.push('onSend')
    return payload
  })
  fastify.addHook('onResponse', async (request, reply) => {
    phases.push(`onResponse ${reply.statusCode} ${request.proxy.upstream?.url}`)
    resolveLogged()
  })
  fastify.get('/', (request, reply) => {
    reply.hijack()
    request.proxy.upstream = { url: 'http://127.0.0.1:1', attempts: 1 }
    sendUpstreamResponse(request, reply, {
      statusCode: 202,
      headers: { 'content-length': '2' },
      body: Readable.from([Buffer.from('ok')]),
    })
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => fastify.close())
  const port = (fastify.server.address() as { port: number }).port
  const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
  assert.equal(res.statusCode, 202)
  assert.equal(res.body.toString(), 'ok')
  await logged
  assert.deepEqual(phases, ['onResponse 202 http://127.0.0.1:1'])
})
