import assert from 'node:assert/strict'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { proxyContext } from '../src/index.js'

function get(url: string, headers: http2.OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  const session = http2.connect(url)
  return new Promise((resolve, reject) => {
    session.on('error', reject)
    const stream = session.request({ ':path': '/who', ...headers }, { endStream: true })
    let status = 0
    let body = ''
    stream.setEncoding('utf8')
    stream.on('response', (h) => {
      status = Number(h[':status'])
    })
    stream.on('data', (d: string) => {
      body += d
    })
    stream.on('end', () => {
      session.close()
      resolve({ status, body })
    })
    stream.on('error', reject)
  })
}

// RFC 9113 §8.3.1: an HTTP/2 request's authority is `:authority`; one that also carries a Host naming
// another entity is malformed. Classification refuses it (400), so no plugin checks one name while the
// other reaches an upstream (a reverse route with preserveHost copies Host).
test('an HTTP/2 request whose Host differs from its :authority is a 400; a matching one is fine', async (t) => {
  const app = Fastify({ http2: true }) as unknown as FastifyInstance
  await app.register(proxyContext)
  app.get('/who', async (request) => `host=${request.proxy.host}`)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const only = await get(url, { ':authority': 'app.test' })
  assert.deepEqual(only, { status: 200, body: 'host=app.test' })
  const same = await get(url, { ':authority': 'app.test', host: 'APP.test' })
  assert.deepEqual(same, { status: 200, body: 'host=app.test' })
  const differs = await get(url, { ':authority': 'app.test', host: 'admin.test' })
  assert.equal(differs.status, 400)
  assert.match(differs.body, /Host differs from :authority/)
})
