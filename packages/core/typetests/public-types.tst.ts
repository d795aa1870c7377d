// The types @proxykit/core publishes, as a user's app sees them through the package's exports.
import proxyContext, {
  BadGatewayError,
  isProxyError,
  type ProxyContext,
  type ProxyError,
  type RequestForm,
  sendError,
} from '@proxykit/core'
import { startOrigin } from '@proxykit/core/testing'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { describe, expect, test } from 'tstyche'

describe('@proxykit/core', () => {
  test('the default export registers without options', () => {
    expect(Fastify().register(proxyContext)).type.not.toRaiseError()
    expect(Fastify().register(proxyContext, { nope: 1 })).type.toRaiseError()
  })

  test('request.proxy is the shared ProxyContext', () => {
    expect<FastifyRequest['proxy']>().type.toBe<ProxyContext>()
    expect<ProxyContext['form']>().type.toBe<RequestForm>()
    expect<ProxyContext['direction']>().type.toBe<'forward' | 'reverse' | null>()
    expect<RequestForm>().type.toBe<'origin' | 'absolute' | 'authority' | 'asterisk'>()
  })

  test('coded errors are ProxyErrors with a code and a status', () => {
    const err = new BadGatewayError('upstream refused')
    expect(err).type.toBeAssignableTo<ProxyError>()
    expect(err.code).type.toBe<'PK_BAD_GATEWAY'>()
    expect(err.statusCode).type.toBe<502>()
    const unknown: unknown = err
    if (isProxyError(unknown)) expect(unknown).type.toBe<ProxyError>()
  })

  test('sendError answers a reply with a ProxyError', () => {
    expect(sendError).type.toBeCallableWith({} as FastifyReply, new BadGatewayError('x'))
    expect(sendError).type.not.toBeCallableWith({} as FastifyReply, 'a string')
  })

  test('the testing subpath starts an origin with a url and close()', async () => {
    const origin = await startOrigin({ handler: (_req, res) => res.end() })
    expect(origin.url).type.toBe<string>()
    expect(origin.close()).type.toBeAssignableTo<Promise<unknown>>()
  })
})
