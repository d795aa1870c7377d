import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { test } from 'node:test'
import {
  BadGatewayError,
  blamesUpstream,
  GatewayTimeoutError,
  gatewayError,
  mayResend,
  UpstreamBadResponseError,
  UpstreamBodyTimeoutError,
  UpstreamClosedError,
  UpstreamConnectError,
  UpstreamConnectTimeoutError,
  UpstreamDestroyedError,
  UpstreamError,
  UpstreamHeadersTimeoutError,
  upstreamFailure,
} from '../src/index.js'

// One family of upstream failures under PK_UPSTREAM, nested as @fastify/reply-from nests its errors,
// and one function mapping whatever an exchange or a dial ended with onto it.

const systemError = (code: string) => Object.assign(new Error(`${code} 127.0.0.1:1`), { code })

test('every member is an UpstreamError with its own code and status; the connect timeout is a connect failure', () => {
  const members: Array<[Error & { code: string; statusCode: number }, string, number]> = [
    [new UpstreamConnectError('x'), 'PK_UPSTREAM_CONNECT', 502],
    [new UpstreamConnectTimeoutError('x'), 'PK_UPSTREAM_CONNECT_TIMEOUT', 504],
    [new UpstreamHeadersTimeoutError('x'), 'PK_UPSTREAM_HEADERS_TIMEOUT', 504],
    [new UpstreamBodyTimeoutError('x'), 'PK_UPSTREAM_BODY_TIMEOUT', 504],
    [new UpstreamClosedError('x'), 'PK_UPSTREAM_CLOSED', 502],
    [new UpstreamBadResponseError('x'), 'PK_UPSTREAM_BAD_RESPONSE', 502],
    [new UpstreamDestroyedError('x'), 'PK_UPSTREAM_DESTROYED', 502],
  ]
  for (const [err, code, status] of members) {
    assert.ok(err instanceof UpstreamError, code)
    assert.equal(err.code, code)
    assert.equal(err.statusCode, status)
  }
  assert.ok(new UpstreamConnectTimeoutError('x') instanceof UpstreamConnectError)
  assert.ok(!(new UpstreamHeadersTimeoutError('x') instanceof UpstreamConnectError))
  assert.equal(new UpstreamError('x').code, 'PK_UPSTREAM')
})

test('a real refused connection maps to PK_UPSTREAM_CONNECT, with the system error as its cause', async () => {
  const server = net.createServer().listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  const { port } = server.address() as AddressInfo
  await new Promise((r) => server.close(r))
  const err = await new Promise<Error>((resolve) => net.connect(port, '127.0.0.1').once('error', resolve))
  const failure = upstreamFailure(err)
  assert.equal(failure.code, 'PK_UPSTREAM_CONNECT')
  assert.equal(failure.statusCode, 502)
  assert.equal(failure.cause, err)
  assert.match(failure.message, /ECONNREFUSED/)
})

test('system and undici codes map to the member that says what happened; members pass unchanged', () => {
  const cases: Array<[string, string]> = [
    ['ECONNREFUSED', 'PK_UPSTREAM_CONNECT'],
    ['EHOSTUNREACH', 'PK_UPSTREAM_CONNECT'],
    ['ENOTFOUND', 'PK_UPSTREAM_CONNECT'],
    ['ETIMEDOUT', 'PK_UPSTREAM_CONNECT_TIMEOUT'],
    ['UND_ERR_CONNECT_TIMEOUT', 'PK_UPSTREAM_CONNECT_TIMEOUT'],
    ['UND_ERR_HEADERS_TIMEOUT', 'PK_UPSTREAM_HEADERS_TIMEOUT'],
    ['UND_ERR_BODY_TIMEOUT', 'PK_UPSTREAM_BODY_TIMEOUT'],
    ['ECONNRESET', 'PK_UPSTREAM_CLOSED'],
    ['EPIPE', 'PK_UPSTREAM_CLOSED'],
    ['UND_ERR_SOCKET', 'PK_UPSTREAM_CLOSED'],
    ['ABORT_ERR', 'PK_UPSTREAM_DESTROYED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'PK_UPSTREAM'],
  ]
  for (const [code, expected] of cases) {
    const failure = upstreamFailure(systemError(code))
    assert.equal(failure.code, expected, code)
    assert.ok(failure instanceof UpstreamError, code)
  }
  assert.equal(upstreamFailure(new Error('no code')).code, 'PK_UPSTREAM')
  assert.equal(upstreamFailure('not even an error').code, 'PK_UPSTREAM')
  const member = new UpstreamHeadersTimeoutError('no head')
  assert.equal(upstreamFailure(member), member)
})

test('resend and blame follow the family: connect failures and resets may be resent; the proxy ending it is not the upstream’s fault', () => {
  assert.ok(mayResend(upstreamFailure(systemError('ECONNREFUSED'))))
  assert.ok(mayResend(new UpstreamConnectTimeoutError('x')))
  assert.ok(mayResend(new UpstreamClosedError('x')))
  assert.ok(!mayResend(new UpstreamHeadersTimeoutError('x')), 'the upstream may be working on it')
  assert.ok(!mayResend(new UpstreamBadResponseError('x')))
  assert.ok(blamesUpstream(new UpstreamBadResponseError('x')))
  assert.ok(blamesUpstream(new UpstreamHeadersTimeoutError('x')))
  assert.ok(!blamesUpstream(new UpstreamDestroyedError('x')))
  assert.ok(!blamesUpstream(upstreamFailure(systemError('ERR_TLS_CERT_ALTNAME_INVALID'))))
})

test('the answer is PK_GATEWAY_TIMEOUT for the timeouts, PK_BAD_GATEWAY otherwise, caused by the member', () => {
  const timeout = new UpstreamHeadersTimeoutError('x')
  const answer = gatewayError(timeout, 'the upstream did not answer')
  assert.ok(answer instanceof GatewayTimeoutError)
  assert.equal(answer.statusCode, 504)
  assert.equal(answer.cause, timeout)
  const reset = gatewayError(upstreamFailure(systemError('ECONNRESET')), 'closed')
  assert.ok(reset instanceof BadGatewayError)
  assert.equal(reset.code, 'PK_BAD_GATEWAY')
  assert.equal((reset.cause as { code: string }).code, 'PK_UPSTREAM_CLOSED')
})
