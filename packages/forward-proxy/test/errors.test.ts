import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { test } from 'node:test'
import { assertErrorBody, startOrigin, startTcpOrigin, startUnacceptingPort } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1')
  await new Promise((r) => s.once('listening', r))
  const { port } = s.address() as AddressInfo
  await new Promise((r) => s.close(r))
  return port
}

test('a refused connection is a 502 with a coded JSON body, for GET and CONNECT', async (t) => {
  const port = await closedPort()
  const proxy = await startProxy({ connectPorts: [port] })
  t.after(() => proxy.app.close())
  const get = await send(
    proxy.port,
    `GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(get.statusCode, 502)
  assert.match(get.headers['content-type']!, /^application\/json/)
  assertErrorBody(get.body, {
    statusCode: 502,
    code: 'PK_BAD_GATEWAY',
    message: /^Bad gateway: .*ECONNREFUSED$/,
  })
  const connect = await send(proxy.port, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`)
  assert.equal(connect.statusCode, 502)
  assertErrorBody(connect.body, {
    statusCode: 502,
    code: 'PK_BAD_GATEWAY',
    message: /^Bad gateway: .*ECONNREFUSED$/,
  })
})

test('an origin that resets before answering is a 502', async (t) => {
  const origin = await startTcpOrigin((socket) => {
    socket.once('data', () => socket.resetAndDestroy())
  })
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const res = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 502)
})

test('an origin that does not answer in time is a 504; so is a name that does not resolve in time', async (t) => {
  const origin = await startOrigin({ handler: () => {} })
  const proxy = await startProxy({
    headersTimeout: 300,
    connectTimeout: 300,
    lookup: () => new Promise(() => {}),
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const slow = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(slow.statusCode, 504)
  assertErrorBody(slow.body, { statusCode: 504, code: 'PK_GATEWAY_TIMEOUT', message: /^Gateway timeout: / })
  const dns = await send(
    proxy.port,
    `GET http://hangs.test/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(dns.statusCode, 504)
  assertErrorBody(dns.body, { statusCode: 504, code: 'PK_GATEWAY_TIMEOUT', message: /resolving hangs\.test/ })
})

test('an origin that never takes the connection is a 504 after connectTimeout, for GET and CONNECT', async (t) => {
  const hang = await startUnacceptingPort()
  const proxy = await startProxy({ connectTimeout: 300, connectPorts: [hang.port] })
  t.after(() => Promise.all([proxy.app.close(), hang.close()]))
  for (const bytes of [
    `GET http://127.0.0.1:${hang.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    `CONNECT 127.0.0.1:${hang.port} HTTP/1.1\r\nHost: 127.0.0.1:${hang.port}\r\n\r\n`,
  ]) {
    const started = performance.now()
    const res = await send(proxy.port, bytes)
    assert.equal(res.statusCode, 504, bytes.split(' ')[0])
    assertErrorBody(res.body, { statusCode: 504, code: 'PK_GATEWAY_TIMEOUT', message: /^Gateway timeout: / })
    assert.ok(performance.now() - started < 5000, 'answered after connectTimeout, not the 10 s default')
  }
})

test('malformed targets are a 400 and never crash the proxy', async (t) => {
  const origin = await startOrigin()
  const proxy = await startProxy({ connectPorts: [origin.port] })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const cases = [
    `GET http://127.0.0.1:99999/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    `GET ftp://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    `GET http://exa_mple..com/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    `GET http:///nohost HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    `GET http://127.0.0.1:${origin.port}/a"b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    `CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n`,
    `CONNECT :${origin.port} HTTP/1.1\r\n\r\n`,
    `CONNECT 127.0.0.1:0 HTTP/1.1\r\n\r\n`,
  ]
  for (const bytes of cases) {
    const res = await send(proxy.port, bytes)
    assert.equal(res.statusCode, 400, `${JSON.stringify(bytes)} answered ${res.statusCode}`)
  }
  assert.equal(origin.hits, 0)
  const after = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(after.statusCode, 200)
})
