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
import { type HeaderSettings, requestRemoveSets } from './headers.js'
import { type ReverseProxyOptions, resolveOptions } from './options.js'
import { proxyRequest } from './proxy.js'
import { ProxyRoute } from './route.js'
import { kReverseRoute, reverseRouteName } from './route-marker.js'
import { proxyUpgrade } from './upgrade.js'
import { listenForUpgrades } from './upgrade-listener.js'

export type { ReverseProxyApi } from './api.js'
export type { BalancerName } from './balancers/index.js'
export * from './options.js'
export { kReverseRoute, reverseRouteName } from './route-marker.js'
export type { UpstreamState, UpstreamStatus } from './upstream.js'

declare module 'fastify' {
  interface FastifyInstance {
    reverseProxy: ReverseProxyApi
  }
}

/**
 * One expression for a route's hosts. The Host header may carry a port and any case; the route names the
 * host alone. `*.d` is one or more labels before `.d`: each label excludes the dot that ends it, so the
 * match is linear whatever the header holds.
 */
export function hostConstraint(hosts: readonly string[]): RegExp {
  const alternatives = hosts.map((h) =>
    h.startsWith('*.')
      ? `(?:[^.:/]+\\.)+${h.slice(2).replace(/[.[\]]/g, '\\$&')}`
      : h.replace(/[.[\]]/g, '\\$&'),
  )
  return new RegExp(`^(?:${alternatives.join('|')})(?::\\d+)?$`, 'i')
}

/** The two URLs a route owns, below the context's prefix: the prefix itself and everything under it. */
function routeUrls(route: ProxyRoute, contextPrefix: string): [string, string] {
  const prefix = route.options.prefix.slice(contextPrefix.length) || '/'
  return prefix === '/' ? ['/', '/*'] : [prefix, `${prefix}/*`]
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
  for (const r of options.routes) {
    routes.set(
      r.name,
      new ProxyRoute(r, (route, u, event) => {
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
      }),
    )
  }

  // One decorator per context, holding the routes of every registration made in it (two registrations
  // under different prefixes, as with @fastify/http-proxy); a child context gets its own.
  const own = Object.hasOwn(fastify, 'reverseProxy') ? fastify.reverseProxy : undefined
  const registry = own instanceof RouteRegistry ? own : new RouteRegistry()
  registry.add(routes.values())
  if (registry !== own) fastify.decorate('reverseProxy', registry)

  // @fastify/cors's preflight route (`OPTIONS *`), when cors is registered after a route of ours that takes
  // OPTIONS on '/*' (prefix '/', no host): Fastify cannot hold both, so cors's is not added and our route
  // hands OPTIONS to its handler instead, which is what cors registered first gets (its route keeps OPTIONS,
  // ours leaves it). Either order then answers OPTIONS alike; cors's onRequest hook answers the preflights.
  const corsOptions: { handler: RouteHandlerMethod | null; urls: Set<string> } = {
    handler: null,
    urls: new Set(),
  }
  fastify.addHook('onRoute', (route) => {
    if (corsOptions.urls.size === 0 || route.path !== '*' || !fastify.hasPlugin('@fastify/cors')) return
    if (route.method !== 'OPTIONS' || !corsOptions.urls.has('/*')) return
    if (route.constraints !== undefined && Object.keys(route.constraints).length > 0) return
    corsOptions.handler = route.handler
    route.method = []
  })

  const handlers = new Map<string, RouteHandlerMethod>()
  for (const route of routes.values()) {
    handlers.set(route.options.name, (request: FastifyRequest, reply: FastifyReply) => {
      if ((request.raw as { upgrade?: boolean }).upgrade === true)
        return proxyUpgrade(route, settings, tunnels, request, reply)
      if (
        corsOptions.handler !== null &&
        request.raw.method === 'OPTIONS' &&
        route.options.hosts.length === 0
      )
        return corsOptions.handler.call(fastify, request, reply)
      return proxyRequest(route, settings, request, reply)
    })
  }

  // Route-owning and encapsulated: the body parser that leaves bodies unread applies to our routes only.
  await fastify.register(async (child) => {
    child.removeAllContentTypeParsers()
    child.addContentTypeParser('*', (_request, _payload, done) => done(null))
    // @fastify/websocket wraps every route's handler so that an upgrade reaching a route without a
    // websocket handler is accepted and closed; for ours the upgrade is what we proxy, so put ours back.
    child.addHook('onRoute', (route) => {
      const name = reverseRouteName(route.config)
      const handler = name === undefined ? undefined : handlers.get(name)
      if (handler !== undefined) route.handler = handler
    })
    // The child adds the context's prefix to every URL itself.
    const contextPrefix = options.contextPrefix
    const addRoutes = (instance: FastifyInstance, route: ProxyRoute) => {
      const { hosts, name } = route.options
      const constraints = hosts.length === 0 ? {} : { constraints: { host: hostConstraint(hosts) } }
      for (const url of routeUrls(route, contextPrefix)) {
        // An OPTIONS route the app already has keeps OPTIONS: @fastify/cors registered first owns
        // `OPTIONS *` (its preflight), which at prefix '/' would otherwise be FST_ERR_DUPLICATED_ROUTE.
        // Other methods still collide loudly: two owners of GET /x is a configuration error.
        const method = instance.supportedMethods.filter(
          (m) => m !== 'OPTIONS' || !instance.hasRoute({ method: m, url, ...constraints }),
        )
        if (hosts.length === 0 && method.includes('OPTIONS')) corsOptions.urls.add(`${contextPrefix}${url}`)
        instance.route({
          method,
          url,
          handler: handlers.get(name)!,
          config: { [kReverseRoute]: name },
          ...constraints,
        })
      }
    }
    for (const route of routes.values()) {
      const register = route.options.register
      if (register === null) {
        addRoutes(child, route)
        continue
      }
      // The route's own plugins, in a context of its own: their hooks reach this route only.
      await child.register(async (own) => {
        const { hosts } = route.options
        const wildcard = routeUrls(route, contextPrefix)[1]
        own.addHook('onRoute', (added) => {
          if (reverseRouteName(added.config) !== undefined) return
          // A plugin's catch-all (@fastify/cors's `OPTIONS *`) would answer for every other route too.
          const path = (added as { routePath?: string }).routePath
          if (path === '*' || path === '/*') added.url = `${contextPrefix}${wildcard}`
          if (hosts.length > 0) added.constraints = { ...added.constraints, host: hostConstraint(hosts) }
        })
        await register(own)
        addRoutes(own, route)
      })
    }
  })

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
