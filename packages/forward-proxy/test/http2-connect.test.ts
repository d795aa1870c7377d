import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { selfSignedCertificate, startOrigin } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import forwardProxy from '../src/index.js'

const run = promisify(execFile)

// Node emits an HTTP/2 CONNECT stream as the server's 'connect' event with (request, response) instead
// of (request, socket, head). Tunnels here splice TCP sockets, which a stream is not: the request goes
// through Fastify like any other and is answered 501 with a coded message, and the process lives on.
// HTTP/1.1 tunnels on the same server (allowHTTP1) still work.
test('an HTTP/2 CONNECT is answered 501; HTTP/1.1 tunnels on the same server still work', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const { key, cert } = await selfSignedCertificate()
  const app = Fastify({ http2: true, https: { allowHTTP1: true, key, cert } }) as unknown as FastifyInstance
  await app.register(forwardProxy, { allow: ['loopback'], connectPorts: [origin.port] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const port = (app.server.address() as AddressInfo).port

  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: cert })
  t.after(() => session.destroy())
  const stream = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${origin.port}` })
  const head = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', (headers) => resolve(headers))
    stream.once('error', reject)
  })
  let body = ''
  stream.setEncoding('utf8')
  for await (const chunk of stream) body += chunk
  // An open HTTP/2 session would hold app.close() until Fastify's http2SessionTimeout.
  session.close()
  assert.equal(head[':status'], 501)
  assert.match(body, /CONNECT over HTTP\/2/)
  assert.equal(origin.hits, 0)

  const { stdout } = await run('curl', [
    '-sk',
    '--max-time',
    '10',
    '--proxy-insecure',
    '-x',
    `https://127.0.0.1:${port}`,
    '-p',
    `${origin.url}/through-tunnel`,
  ])
  assert.equal((JSON.parse(stdout) as { url: string }).url, '/through-tunnel')
  assert.equal(origin.hits, 1)
})
