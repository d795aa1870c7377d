// The types @proxykit/reverse-proxy publishes, as a user's app sees them through the package's exports.
import reverseProxy, {
  type BalancerName,
  type ReverseProxyApi,
  type ReverseProxyOptions,
  type UpstreamStatus,
} from '@proxykit/reverse-proxy'
import httpProxy from '@proxykit/reverse-proxy/http-proxy'
import Fastify from 'fastify'
import { describe, expect, test } from 'tstyche'

describe('@proxykit/reverse-proxy', () => {
  test('registers with routes, and not without them', () => {
    expect(
      Fastify().register(reverseProxy, {
        routes: [{ prefix: '/api', upstreams: ['http://127.0.0.1:3000'] }],
      }),
    ).type.not.toRaiseError()
    expect(Fastify().register(reverseProxy, {})).type.toRaiseError()
    expect(
      Fastify().register(reverseProxy, { routes: [{ prefix: '/api', upstreams: 3000 }] }),
    ).type.toRaiseError()
  })

  test('fastify.reverseProxy is the runtime API', () => {
    const app = Fastify()
    expect(app.reverseProxy).type.toBe<ReverseProxyApi>()
    expect(app.reverseProxy.routes()).type.toBe<string[]>()
    expect(app.reverseProxy.upstreams('api')).type.toBe<UpstreamStatus[]>()
    expect(app.reverseProxy.drainUpstream('api', 'http://127.0.0.1:3000')).type.toBe<Promise<boolean>>()
  })

  test('the balancer names are a closed set', () => {
    expect<'round-robin'>().type.toBeAssignableTo<BalancerName>()
    expect<'fastest'>().type.not.toBeAssignableTo<BalancerName>()
    expect<ReverseProxyOptions['routes']>().type.not.toBeAssignableTo<undefined>()
  })

  test('the http-proxy subpath takes @fastify/http-proxy options', () => {
    expect(
      Fastify().register(httpProxy, {
        upstream: 'http://127.0.0.1:3000',
        prefix: '/api',
        rewritePrefix: '/v2',
      }),
    ).type.not.toRaiseError()
    expect(Fastify().register(httpProxy, { prefix: '/api' })).type.toRaiseError()
  })
})
