// The `@proxykit/core/testing` helpers other packages' tests stand on: each checked against a real client.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { Agent, request } from 'undici'
import {
  collectBody,
  collectText,
  hashStream,
  parseRawResponse,
  patternStream,
  rawRequest,
  redisForTests,
  startOrigin,
  startRedisServer,
  startTcpOrigin,
  startTlsOrigin,
} from '../src/testing/index.js'

test('startOrigin echoes the request and records it', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  assert.match(origin.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const res = await request(`${origin.url}/a?b`, { method: 'POST', body: 'hi', headers: { 'x-t': '1' } })
  const echo = (await res.body.json()) as {
    method: string
    url: string
    headers: Record<string, string>
    body: string
  }
  assert.equal(echo.method, 'POST')
  assert.equal(echo.url, '/a?b')
  assert.equal(echo.headers['x-t'], '1')
  assert.equal(echo.body, 'hi')
  assert.equal(origin.hits, 1)
  assert.equal(origin.requests[0]!.body.toString(), 'hi')
  assert.equal(origin.requests[0]!.remoteAddress, '127.0.0.1')
})

test('startOrigin on ::1 has a bracketed URL', async (t) => {
  const origin = await startOrigin({ host: '::1' })
  t.after(() => origin.close())
  assert.match(origin.url, /^http:\/\/\[::1\]:\d+$/)
  const res = await request(`${origin.url}/`)
  assert.equal(res.statusCode, 200)
  await res.body.dump()
})

test('startTlsOrigin serves HTTPS that undici trusts with the generated certificate as CA', async (t) => {
  const origin = await startTlsOrigin()
  const agent = new Agent({ connect: { ca: origin.cert } })
  t.after(() => Promise.all([origin.close(), agent.close()]))
  assert.match(origin.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  const res = await request(`${origin.url}/tls`, { dispatcher: agent })
  assert.equal(res.statusCode, 200)
  assert.equal(((await res.body.json()) as { url: string }).url, '/tls')
  // The same name through `localhost` (in the certificate's names too).
  const byName = await request(`https://localhost:${origin.port}/`, { dispatcher: agent })
  assert.equal(byName.statusCode, 200)
  await byName.body.dump()
  // Without the CA the certificate is refused: the TLS really is checked.
  const strict = new Agent()
  t.after(() => strict.close())
  await assert.rejects(request(`${origin.url}/`, { dispatcher: strict }), /self[- ]signed|certificate/i)
})

test('startTcpOrigin echoes bytes by default and records them per connection', async (t) => {
  const origin = await startTcpOrigin()
  t.after(() => origin.close())
  const socket = net.connect(origin.port, '127.0.0.1')
  t.after(() => socket.destroy())
  await once(socket, 'connect')
  socket.write('ping\r\n')
  const [echoed] = (await once(socket, 'data')) as [Buffer]
  assert.equal(echoed.toString(), 'ping\r\n')
  assert.equal(origin.connections, 1)
  assert.equal(Buffer.concat(origin.received[0]!).toString(), 'ping\r\n')
})

test('startTcpOrigin with a custom handler', async (t) => {
  const origin = await startTcpOrigin((socket) => socket.end('HELLO'))
  t.after(() => origin.close())
  const res = await rawRequest(origin.port, 'anything')
  assert.equal(res.raw.toString(), 'HELLO')
  assert.equal(res.statusCode, 0)
})

test('rawRequest sends exact bytes and parses the first response', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(201, { 'X-Mixed-Case': 'v', 'content-length': '2' })
      res.end('ok')
    },
  })
  t.after(() => origin.close())
  const res = await rawRequest(origin.port, 'GET /exact HTTP/1.1\r\nHost: a\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n')
  assert.equal(res.statusCode, 201)
  assert.equal(res.headers['x-mixed-case'], 'v')
  assert.equal(res.text.startsWith('HTTP/1.1 201 Created\r\n'), true)
  assert.equal(res.body.toString(), 'ok')
  assert.deepEqual(origin.requests[0]!.rawHeaders, ['Host', 'a', 'X-Dup', '1', 'X-Dup', '2'])
})

test('parseRawResponse on something that is not HTTP', () => {
  const r = parseRawResponse(Buffer.from('garbage'))
  assert.equal(r.statusCode, 0)
  assert.equal(r.body.length, 0)
})

test('patternStream and hashStream agree, are deterministic, and differ by size', async () => {
  const size = 1_000_003 // not a multiple of the chunk size
  const a = patternStream(size)
  const hashed = await hashStream(a)
  assert.equal(hashed.bytes, size)
  assert.equal(hashed.sha256, a.digest())
  const b = await hashStream(patternStream(size, 4096)) // other chunk size, other bytes
  assert.equal(b.bytes, size)
  const again = await hashStream(patternStream(size))
  assert.equal(again.sha256, hashed.sha256)
  const other = await hashStream(patternStream(size - 1))
  assert.notEqual(other.sha256, hashed.sha256)
  assert.equal((await hashStream(patternStream(0))).bytes, 0)
})

test('collectBody and collectText read strings and buffers', async () => {
  assert.deepEqual(
    await collectBody(Readable.from([Buffer.from('ab'), Buffer.from('c')])),
    Buffer.from('abc'),
  )
  assert.equal(await collectText(Readable.from(['grü', 'ße'])), 'grüße')
})

async function resp(port: number, command: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  try {
    await once(socket, 'connect')
    socket.write(command)
    const [data] = (await once(socket, 'data')) as [Buffer]
    return data.toString()
  } finally {
    socket.destroy()
  }
}

test('redisForTests answers PING (RESP over a raw socket)', async (t) => {
  const redis = await redisForTests()
  if (redis === null) {
    t.skip('no REDIS_URL and no redis-server here')
    return
  }
  t.after(() => redis.stop())
  const url = new URL(redis.url)
  assert.equal(url.hostname, '127.0.0.1')
  assert.equal(await resp(Number(url.port), '*1\r\n$4\r\nPING\r\n'), '+PONG\r\n')
})

test('startRedisServer stops and restarts on the same port', async (t) => {
  let server: Awaited<ReturnType<typeof startRedisServer>>
  try {
    server = await startRedisServer()
  } catch (err) {
    if (process.env.CI) throw err
    t.skip('redis-server is not installed')
    return
  }
  t.after(() => server.stop())
  assert.equal(await resp(server.port, 'PING\r\n'), '+PONG\r\n')
  await server.stop()
  await assert.rejects(resp(server.port, 'PING\r\n'))
  await server.restart()
  assert.equal(await resp(server.port, 'PING\r\n'), '+PONG\r\n')
})
