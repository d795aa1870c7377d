// The error model: coded errors with a status, answered as Fastify's default JSON error body before
// reply.hijack() (through the error handler) and the same JSON after it (on reply.raw).
import assert from 'node:assert/strict'
import http from 'node:http'
import { test } from 'node:test'
import Fastify from 'fastify'
import {
  BadGatewayError,
  BadHostError,
  BadRequestError,
  BadTargetError,
  ContentTooLargeError,
  ForbiddenError,
  GatewayTimeoutError,
  isProxyError,
  LoopDetectedError,
  ProxyAuthRequiredError,
  ServiceUnavailableError,
  sendError,
  TooManyRequestsError,
  UnauthorizedError,
  writeRawError,
} from '../src/index.js'
import { assertErrorBody, rawRequest } from '../src/testing/index.js'

test('each coded error has its status, code and a message that starts with what went wrong', () => {
  const cases: [Error & { statusCode: number; code: string }, number, string, string][] = [
    [new BadRequestError('x'), 400, 'PK_BAD_REQUEST', 'Bad request: x'],
    [new BadTargetError('x'), 400, 'PK_BAD_TARGET', 'Bad request-target: x'],
    [new BadHostError('x'), 400, 'PK_BAD_HOST', 'Bad Host header: x'],
    [new UnauthorizedError('x'), 401, 'PK_UNAUTHORIZED', 'Authentication required: x'],
    [new ForbiddenError('x'), 403, 'PK_FORBIDDEN', 'Forbidden: x'],
    [new ProxyAuthRequiredError('x'), 407, 'PK_PROXY_AUTH_REQUIRED', 'Proxy authentication required: x'],
    [new ContentTooLargeError('x'), 413, 'PK_CONTENT_TOO_LARGE', 'Content too large: x'],
    [new TooManyRequestsError('x'), 429, 'PK_TOO_MANY_REQUESTS', 'Too many requests: x'],
    [new LoopDetectedError('x'), 508, 'PK_LOOP_DETECTED', 'Forwarding loop detected: x'],
    [new BadGatewayError('x'), 502, 'PK_BAD_GATEWAY', 'Bad gateway: x'],
    [new ServiceUnavailableError('x'), 503, 'PK_SERVICE_UNAVAILABLE', 'Service unavailable: x'],
    [new GatewayTimeoutError('x'), 504, 'PK_GATEWAY_TIMEOUT', 'Gateway timeout: x'],
  ]
  for (const [err, status, code, message] of cases) {
    assert.equal(err.statusCode, status, code)
    assert.equal(err.code, code)
    assert.equal(err.message, message)
    assert.ok(isProxyError(err))
  }
})

test('errors carry their cause', () => {
  const cause = new Error('ECONNREFUSED')
  const err = new BadGatewayError('upstream refused the connection', { cause })
  assert.equal(err.cause, cause)
})

test('isProxyError is false for everything that is not ours', () => {
  assert.equal(isProxyError(new Error('x')), false)
  assert.equal(isProxyError(Object.assign(new Error('x'), { code: 'FST_ERR_X', statusCode: 400 })), false)
  assert.equal(isProxyError({ code: 'PK_BAD_REQUEST', statusCode: 400 }), false)
  assert.equal(isProxyError(null), false)
  assert.equal(isProxyError(Object.assign(new Error('x'), { code: 'PK_X' })), false)
})

async function app() {
  const fastify = Fastify()
  fastify.get('/plain', async (_request, reply) => {
    sendError(reply, new TooManyRequestsError('slow down'), { 'retry-after': '7' })
    return reply
  })
  fastify.get('/hijacked', (_request, reply) => {
    reply.hijack()
    sendError(reply, new ProxyAuthRequiredError('credentials needed'), {
      'proxy-authenticate': 'Basic realm="proxykit"',
    })
  })
  fastify.get('/mid-body', (_request, reply) => {
    reply.hijack()
    reply.raw.writeHead(200, { 'content-length': '100' })
    reply.raw.write('partial')
    setTimeout(() => sendError(reply, new BadGatewayError('upstream died')), 50)
  })
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  return { fastify, port: (fastify.server.address() as { port: number }).port }
}

test('sendError before hijack: status, extra headers, Fastify’s JSON error body with the code', async (t) => {
  const { fastify, port } = await app()
  t.after(() => fastify.close())
  const res = await rawRequest(port, 'GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
  assert.equal(res.statusCode, 429)
  assert.equal(res.headers['retry-after'], '7')
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  assertErrorBody(res.body, {
    statusCode: 429,
    code: 'PK_TOO_MANY_REQUESTS',
    message: 'Too many requests: slow down',
  })
  assert.equal(res.headers['content-length'], String(res.body.length))
})

test('sendError after hijack writes the same answer on reply.raw', async (t) => {
  const { fastify, port } = await app()
  t.after(() => fastify.close())
  const res = await rawRequest(port, 'GET /hijacked HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
  assert.equal(res.statusCode, 407)
  assert.equal(res.headers['proxy-authenticate'], 'Basic realm="proxykit"')
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  assertErrorBody(res.body, {
    statusCode: 407,
    code: 'PK_PROXY_AUTH_REQUIRED',
    message: 'Proxy authentication required: credentials needed',
  })
  assert.equal(res.headers['content-length'], String(res.body.length))
})

test('sendError once the head is out cuts the response short instead of lying about it', async (t) => {
  const { fastify, port } = await app()
  t.after(() => fastify.close())
  const res = await rawRequest(port, 'GET /mid-body HTTP/1.1\r\nHost: a\r\n\r\n', { idleMs: 2000 })
  assert.equal(res.statusCode, 200)
  assert.equal(res.body.toString(), 'partial')
  assert.ok(res.body.length < 100)
})

test('writeRawError on a plain node:http response; its own content-type and length win', async (t) => {
  const server = http.createServer((_req, res) => {
    writeRawError(res, new ServiceUnavailableError('no healthy upstream'), {
      'retry-after': '1',
      'content-type': 'text/html',
      'content-length': '1',
    })
  })
  server.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  t.after(() => new Promise<void>((r) => server.close(() => r())))
  const port = (server.address() as { port: number }).port
  const res = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
  assert.equal(res.statusCode, 503)
  assert.equal(res.headers['retry-after'], '1')
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  assertErrorBody(res.body, {
    statusCode: 503,
    code: 'PK_SERVICE_UNAVAILABLE',
    message: 'Service unavailable: no healthy upstream',
  })
  assert.equal(res.headers['content-length'], String(res.body.length))
})
