import cache from '@proxykit/cache'
import reverseProxy, { hostConstraint, reverseRouteName } from '@proxykit/reverse-proxy'
import { reverseAccessOptions, reverseNeedsAccess } from '../compose/access.js'
import { clientCheck, refuseClients } from '../compose/clients.js'
import { denyPaths, proxiedRoutes, reverseProxyOptions, routeMatcher } from '../compose/reverse.js'
import type { ReverseConfig } from '../config/types.js'
import { type AuthResources, routeAccessControl } from '../routes/auth.js'
import { answeringRoutes, routeFeatureHooks } from '../routes/index.js'
import type { Shared } from '../shared.js'
import { createListener, type Listener } from './app.js'

/** The reverse listener: access control (route deny lists, rate limits), the cache, the reverse proxy. */
export async function reverseListener(config: ReverseConfig, shared: Shared): Promise<Listener> {
  const match = routeMatcher(config.routes)
  const listener = createListener({
    name: 'reverse',
    trustProxy: config.trustProxy,
    clientTimeouts: config.clientTimeouts,
    maxConnectionsPerClient: config.maxConnectionsPerClient,
    proxyProtocol: config.proxyProtocol,
    maxHeaderSize: config.maxHeaderSize,
    refuseConnect: true,
    ...(shared.tls.reverse === null ? {} : { tls: { store: shared.tls.reverse, http2: config.http2 } }),
    logger: shared.logger,
    metrics: shared.metrics,
    accessLog: shared.config.log.access,
    routeOf: (request) => match(request.proxy?.host ?? null, request.url)?.name ?? 'unmatched',
  })
  const app = listener.app
  if (config.hsts !== null) {
    const h = config.hsts
    const value = `max-age=${h.maxAge}${h.includeSubDomains ? '; includeSubDomains' : ''}${h.preload ? '; preload' : ''}`
    // Set before anything answers, so that refusals, cache hits and proxied answers all carry it (a hook's
    // header wins over the upstream's own).
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('strict-transport-security', value)
      done()
    })
  }
  const listenerClients = clientCheck(config.clients)
  const routeClients = new Map(config.routes.map((r) => [r.name, clientCheck(r.clients)]))
  if (listenerClients !== null || config.routes.some((r) => r.clients !== null)) {
    const everyRoute = listenerClients === null ? [] : [{ rule: 'reverse.clients', check: listenerClients }]
    refuseClients(app, (request) => {
      const route = match(request.proxy.host, request.url)
      const own = route === null ? null : routeClients.get(route.name)
      return own == null ? everyRoute : [...everyRoute, { rule: `${route!.name}:clients`, check: own }]
    })
  }
  // Response headers, redirects and body limits: before access control (a redirect or a 413 needs no rule).
  routeFeatureHooks(app, config)
  // Routes with their own `auth` or `rules` carry them as access-control route config, set before the
  // plugin's onRoute hook compiles it.
  const resources: AuthResources[] = []
  const routeAccess = new Map(
    config.routes.map((r) => [r.name, routeAccessControl(r, denyPaths(r), resources)] as const),
  )
  if (resources.length > 0)
    app.addHook('onClose', async () => void (await Promise.all(resources.map((r) => r.close()))))
  app.addHook('onRoute', (route) => {
    const name = reverseRouteName(route.config)
    const own = name === undefined ? undefined : routeAccess.get(name)
    if (own !== undefined) route.config!.accessControl = own
  })
  if (reverseNeedsAccess(config)) {
    // Loaded only when the listener has rules, rate limits or auth (it brings @fastify/rate-limit, bcryptjs).
    const { default: accessControl } = await import('@proxykit/access-control')
    await app.register(accessControl, {
      ...reverseAccessOptions(config),
      ...(shared.redis === null
        ? {}
        : {
            rateLimit: {
              redis: shared.redis,
              nameSpace: `${shared.redisPrefix}ratelimit:reverse:`,
              // While Redis is down: fail-open lets requests through, fail-closed refuses them.
              skipOnError: shared.config.redis?.rateLimits !== 'fail-closed',
            },
          }),
    })
  }
  const cached = new Set(config.routes.filter((r) => r.cache).map((r) => r.name))
  if (cached.size > 0) {
    // Routes without `cache: true` bypass the cache: set their Fastify route config before the cache's own
    // onRoute hook reads it (hooks run in the order they were added).
    app.addHook('onRoute', (route) => {
      const name = reverseRouteName(route.config)
      if (name !== undefined && !cached.has(name)) route.config = { ...route.config, cache: false }
    })
    // Targeted cache control (RFC 9213) is an origin's word to its CDN: the reverse listener's cache only.
    const targeted = shared.config.cache.targetedCacheControl
    await app.register(cache, {
      ...shared.cacheOptions(),
      ...(targeted.length > 0 ? { targetedCacheControl: targeted } : {}),
    })
    shared.caches.push({ listener: 'reverse', app })
  }
  // After the cache: its onRoute hook puts it in front of these routes as in front of the proxied ones.
  await answeringRoutes(app, config.routes, (r) =>
    r.hosts.length === 0 ? {} : { constraints: { host: hostConstraint(r.hosts) } },
  )
  if (proxiedRoutes(config.routes).length > 0)
    await app.register(reverseProxy, reverseProxyOptions(config.routes, config.stripRequestHeaders))
  return listener
}
