// The types @proxykit/forward-proxy publishes, as a user's app sees them through the package's exports.
import forwardProxy, { type ForwardProxyOptions, type LookupFunction } from '@proxykit/forward-proxy'
import Fastify from 'fastify'
import { describe, expect, test } from 'tstyche'

describe('@proxykit/forward-proxy', () => {
  test('registers with no options or with its documented ones', () => {
    expect(Fastify().register(forwardProxy)).type.not.toRaiseError()
    expect(
      Fastify().register(forwardProxy, {
        mode: 'transparent',
        allow: ['loopback', '10.0.0.0/8'],
        connectPorts: [443],
        ports: [80, '1025-65535'],
        connectTimeout: 5000,
      }),
    ).type.not.toRaiseError()
  })

  test('rejects options of the wrong type', () => {
    expect(Fastify().register(forwardProxy, { mode: 'stealth' })).type.toRaiseError()
    expect(Fastify().register(forwardProxy, { allow: '127.0.0.1/8' })).type.toRaiseError()
    expect(Fastify().register(forwardProxy, { connectPorts: ['443'] })).type.toRaiseError()
  })

  test('the option types are exported', () => {
    expect<ForwardProxyOptions['mode']>().type.toBe<'anonymous' | 'transparent' | undefined>()
    expect<ForwardProxyOptions['lookup']>().type.toBe<LookupFunction | undefined>()
  })
})
