import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { compileTrust, installProxyContext } from '@proxykit/core'
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteHandlerMethod,
} from 'fastify'
import fp from 'fastify-plugin'
import { absoluteToOriginForm } from './absolute-form.js'
import { type ReverseProxyApi, RouteRegistry } from './api.js'
import { addFastifyRoutes, watchCorsPreflight } from './fastify-routes.js'
import { type HeaderSettings, requestRemoveSets } from './headers.js'
import { type ReverseProxyOptions, resolveOptions } from './options.js'
import { proxyRequest } from './proxy.js'
import { ProxyRoute } from './route.js'
import { proxyUpgrade } from './upgrade.js'
import { listenForUpgrades } from './upgrade-listener.js'
import type { Upstream, UpstreamEvent } from './upstream.js'

export type { ReverseProxyApi } from './api.js'
export type { BalancerName } from './balancers/index.js'
export { hostConstraint } from './fastify-routes.js'
export * from './options.js'
export { kReverseRoute, reverseRouteName } from './route-marker.js'
export type { UpstreamState, UpstreamStatus } from './upstream.js'

declare module 'fastify' {
  interface FastifyInstance {
    reverseProxy: ReverseProxyApi
  }
}

/** Logs what happens to an upstream's health, at the level an operator wants to see it. */
function upstreamEventLogger(
  fastify: FastifyInstance,
): (route: ProxyRoute, u: Upstream, event: UpstreamEvent) => void {
  return (route, u, event) => {
    const at = { route: route.options.name, upstream: u.url }
    switch (event.kind) {
      case 'healthy':
        return fastify.log.info(at, 'upstream healthy again')
      case 'unhealthy':
        return fastify.log.warn(at, 'upstream failed its health checks')
      case 'ejected':
        return fastify.log.warn(
          { ...at, ejectMs: event.forMs, ejections: event.ejections },
          'upstream ejected after consecutive failures',
        )
      case 'returned':
        return fastify.log.info(
          { ...at, by: event.by, outMs: event.outMs },
          'upstream back after an ejection',
        )
    }
  }
}

const plugin: FastifyPluginAsync<ReverseProxyOptions> = async (fastify, opts) => {
  installProxyContext(fastify)
  // fastify-plugin keeps the decorator visible to the context we were registered from (the gateway reads
  // it), which also means Fastify applies no register prefix for us: the prefix is read here and put in
  // front of every route's, on top of the prefix of the context itself.
  const options = resolveOptions(opts, fastify.prefix)
  const settings: HeaderSettings = {
    trust: options.trustProxy === undefined ? null : compileTrust(options.trustProxy),
    xForwarded: options.xForwarded,
    forwarded: options.forwarded,
    hide: new Set(options.hideHeaders),
    methods: fastify.supportedMethods.join(', '),
    remove: requestRemoveSets(options.stripRequestHeaders),
  }
  const tunnels = new Set<Duplex>()
  const routes = new Map<string, ProxyRoute>()
  const onUpstreamEvent = upstreamEventLogger(fastify)
  for (const r of options.routes) routes.set(r.name, new ProxyRoute(r, onUpstreamEvent))

  // One decorator per context, holding the routes of every registration made in it (two registrations
  // under different prefixes, as with @fastify/http-proxy); a child context gets its own.
  const own = Object.hasOwn(fastify, 'reverseProxy') ? fastify.reverseProxy : undefined
  const registry = own instanceof RouteRegistry ? own : new RouteRegistry()
  registry.add(routes.values())
  if (registry !== own) fastify.decorate('reverseProxy', registry)

  const cors = watchCorsPreflight(fastify)

  const handlers = new Map<string, RouteHandlerMethod>()
  for (const route of routes.values()) {
    handlers.set(route.options.name, (request: FastifyRequest, reply: FastifyReply) => {
      if ((request.raw as { upgrade?: boolean }).upgrade === true)
        return proxyUpgrade(route, settings, tunnels, request, reply)
      if (cors.handler !== null && request.raw.method === 'OPTIONS' && route.options.hosts.length === 0)
        return cors.handler.call(fastify, request, reply)
      return proxyRequest(route, settings, request, reply)
    })
  }

  await addFastifyRoutes(fastify, routes.values(), handlers, options.contextPrefix, cors)

  // An absolute-form target (GET http://b.test/x) is made origin-form before Fastify routes it.
  const server = fastify.server
  const toOriginForm = (req: IncomingMessage) => absoluteToOriginForm(req, server)
  server.prependListener('request', toOriginForm)
  const unlisten = listenForUpgrades(
    fastify,
    options.routes.map((r) => r.prefix),
  )

  fastify.addHook('onReady', async () => {
    for (const route of routes.values()) route.health?.start()
  })
  fastify.addHook('preClose', async () => {
    unlisten()
    server.removeListener('request', toOriginForm)
    for (const s of tunnels) s.destroy()
  })
  fastify.addHook('onClose', async () => {
    await Promise.all([...routes.values()].map((r) => r.close()))
  })
}

export const reverseProxy = fp(plugin, { name: '@proxykit/reverse-proxy', fastify: '5.x' })
export default reverseProxy
