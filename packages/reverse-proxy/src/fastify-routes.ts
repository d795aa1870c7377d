// How the proxy's routes become Fastify routes: one pair of URLs per route (its prefix and everything
// below), host constraints, the route's own plugins in a context of its own, and the hand-off of OPTIONS
// to @fastify/cors's preflight route.
import type { FastifyInstance, RouteHandlerMethod } from 'fastify'
import type { ProxyRoute } from './route.js'
import { kReverseRoute, reverseRouteName } from './route-marker.js'

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

/** @fastify/cors's preflight handler when our routes took OPTIONS from it, and the URLs where they did. */
export interface CorsHandoff {
  handler: RouteHandlerMethod | null
  urls: Set<string>
}

/**
 * @fastify/cors's preflight route (`OPTIONS *`), when cors is registered after a route of ours that takes
 * OPTIONS on '/*' (prefix '/', no host): Fastify cannot hold both, so cors's is not added and our route
 * hands OPTIONS to its handler instead, which is what cors registered first gets (its route keeps OPTIONS,
 * ours leaves it). Either order then answers OPTIONS alike; cors's onRequest hook answers the preflights.
 */
export function watchCorsPreflight(fastify: FastifyInstance): CorsHandoff {
  const cors: CorsHandoff = { handler: null, urls: new Set() }
  fastify.addHook('onRoute', (route) => {
    if (cors.urls.size === 0 || route.path !== '*' || !fastify.hasPlugin('@fastify/cors')) return
    if (route.method !== 'OPTIONS' || !cors.urls.has('/*')) return
    if (route.constraints !== undefined && Object.keys(route.constraints).length > 0) return
    cors.handler = route.handler
    route.method = []
  })
  return cors
}

/**
 * Adds every route's URLs, each answered by its handler. Route-owning and encapsulated: the body parser
 * that leaves bodies unread applies to our routes only.
 */
export async function addFastifyRoutes(
  fastify: FastifyInstance,
  routes: Iterable<ProxyRoute>,
  handlers: ReadonlyMap<string, RouteHandlerMethod>,
  contextPrefix: string,
  cors: CorsHandoff,
): Promise<void> {
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
        if (hosts.length === 0 && method.includes('OPTIONS')) cors.urls.add(`${contextPrefix}${url}`)
        instance.route({
          method,
          url,
          handler: handlers.get(name)!,
          config: { [kReverseRoute]: name },
          ...constraints,
        })
      }
    }
    for (const route of routes) {
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
}
