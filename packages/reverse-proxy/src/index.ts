import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { compileTrust, installProxyContext } from '@proxykit/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import fp from 'fastify-plugin'
import { absoluteToOriginForm } from './absolute-form.js'
import { type HeaderSettings, requestRemoveSets } from './headers.js'
import { type ReverseProxyOptions, resolveOptions, resolveUpstream, type UpstreamOption } from './options.js'
import { proxyRequest } from './proxy.js'
import { ProxyRoute } from './route.js'
import { kUpgradeHead, proxyUpgrade } from './upgrade.js'
import type { UpstreamStatus } from './upstream.js'

export type { BalancerName } from './balancers/index.js'
export * from './options.js'
export type { UpstreamState, UpstreamStatus } from './upstream.js'

/** `fastify.reverseProxy`: the upstream groups at run time, for the gateway's admin API and metrics. */
export interface ReverseProxyApi {
  /** Route names, in configuration order. */
  routes(): string[]
  /** Each upstream of a route with its health and load. */
  upstreams(route: string): UpstreamStatus[]
  /** Adds an upstream; it takes traffic at once (and is health-checked at once when checks are on). */
  addUpstream(route: string, upstream: string | UpstreamOption): UpstreamStatus
  /**
   * Stops new requests to an upstream and resolves once its in-flight requests are done (true), or after
   * `timeoutMs` (default 30 s) with requests still running (false). The upstream stays listed as draining.
   */
  drainUpstream(route: string, url: string, options?: { timeoutMs?: number }): Promise<boolean>
  /** Lets a drained upstream take traffic again. */
  undrainUpstream(route: string, url: string): UpstreamStatus
  /** Drains, then removes the upstream and closes its connections. */
  removeUpstream(route: string, url: string, options?: { timeoutMs?: number }): Promise<boolean>
  /** Runs the active health checks of one route (or all) now. */
  checkHealth(route?: string): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    reverseProxy: ReverseProxyApi
  }
}

const ROUTE_CONFIG_KEY = 'proxykitReverseRoute'

function hostConstraint(host: string): RegExp {
  // The Host header may carry a port and any case; the route names the host alone.
  return new RegExp(`^${host.replace(/[.[\]]/g, '\\$&')}(?::\\d+)?$`, 'i')
}

const plugin: FastifyPluginAsync<ReverseProxyOptions> = async (fastify, opts) => {
  installProxyContext(fastify)
  const options = resolveOptions(opts)
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

  const handlers = new Map<string, RouteHandlerMethod>()
  for (const route of routes.values()) {
    handlers.set(route.options.name, (request: FastifyRequest, reply: FastifyReply) => {
      if ((request.raw as { upgrade?: boolean }).upgrade === true)
        return proxyUpgrade(route, settings, tunnels, request, reply)
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
      const name = (route.config as Record<string, unknown> | undefined)?.[ROUTE_CONFIG_KEY]
      const handler = typeof name === 'string' ? handlers.get(name) : undefined
      if (handler !== undefined) route.handler = handler
    })
    for (const route of routes.values()) {
      const { prefix, host, name } = route.options
      const urls = prefix === '/' ? ['/', '/*'] : [prefix, `${prefix}/*`]
      for (const url of urls) {
        child.route({
          method: child.supportedMethods,
          url,
          handler: handlers.get(name)!,
          config: { [ROUTE_CONFIG_KEY]: name },
          ...(host === null ? {} : { constraints: { host: hostConstraint(host) } }),
        })
      }
    }
  })

  // Upgrade requests (WebSocket …) go through Fastify's routing like any request, so access control and
  // every other hook apply to them too. @fastify/websocket already does exactly that with its own
  // 'upgrade' listener: when it is registered we leave the event to it, so only one of us answers.
  const server = fastify.server
  const toOriginForm = (req: IncomingMessage) => absoluteToOriginForm(req, server)
  server.prependListener('request', toOriginForm)
  const prefixes = options.routes.map((r) => r.prefix)
  const ours = (url: string) =>
    prefixes.some((p) => p === '/' || url === p || url.startsWith(`${p}/`) || url.startsWith(`${p}?`))
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (fastify.hasDecorator('websocketServer')) return
    absoluteToOriginForm(req, server)
    // Another 'upgrade' listener (a bare `ws` server, say) owns the paths that are not ours.
    if (server.listenerCount('upgrade') > 1 && !ours(req.url ?? '/')) return
    socket.on('error', () => socket.destroy())
    ;(req as IncomingMessage & Record<symbol, unknown>)[kUpgradeHead] = head
    const res = new ServerResponse(req)
    // Anything answered with a normal response (404, 403, an error) ends the connection after it.
    res.once('finish', () => socket.end())
    try {
      res.assignSocket(socket as never)
      fastify.routing(req, res)
    } catch (err) {
      fastify.log.warn({ err }, 'upgrade request failed')
      socket.destroy()
    }
  }
  server.on('upgrade', onUpgrade)

  const find = (name: string): ProxyRoute => {
    const route = routes.get(name)
    if (route === undefined) throw new Error(`@proxykit/reverse-proxy: no route named '${name}'`)
    return route
  }
  const findUpstream = (name: string, url: string) => {
    const route = find(name)
    const u = route.find(url)
    if (u === undefined) throw new Error(`@proxykit/reverse-proxy: route '${name}' has no upstream ${url}`)
    return { route, u }
  }
  const drain = async (u: { draining: boolean; idle(): Promise<void> }, timeoutMs = 30_000) => {
    u.draining = true
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs)
      timer.unref()
    })
    const done = await Promise.race([u.idle().then(() => true), timedOut])
    clearTimeout(timer)
    return done
  }
  const api: ReverseProxyApi = {
    routes: () => [...routes.keys()],
    upstreams: (name) => {
      const now = Date.now()
      return find(name).upstreams.map((u) => u.status(now))
    },
    addUpstream: (name, upstream) => {
      const route = find(name)
      const option = resolveUpstream(upstream, 'upstream')
      if (route.find(option.url) !== undefined)
        throw new Error(`@proxykit/reverse-proxy: route '${name}' already has upstream ${option.url}`)
      return route.add(option).status(Date.now())
    },
    drainUpstream: (name, url, o) => drain(findUpstream(name, url).u, o?.timeoutMs),
    undrainUpstream: (name, url) => {
      const { u } = findUpstream(name, url)
      u.draining = false
      return u.status(Date.now())
    },
    removeUpstream: async (name, url, o) => {
      const { route, u } = findUpstream(name, url)
      const drained = await drain(u, o?.timeoutMs)
      route.remove(u)
      await (drained ? u.close() : u.destroy())
      return drained
    },
    checkHealth: async (name) => {
      const list = name === undefined ? [...routes.values()] : [find(name)]
      await Promise.all(
        list.flatMap((r) => (r.health === null ? [] : r.upstreams.map((u) => r.health!.check(u)))),
      )
    },
  }
  fastify.decorate('reverseProxy', api)

  fastify.addHook('onReady', async () => {
    for (const route of routes.values()) route.health?.start()
  })
  fastify.addHook('preClose', async () => {
    server.removeListener('upgrade', onUpgrade)
    server.removeListener('request', toOriginForm)
    for (const s of tunnels) s.destroy()
  })
  fastify.addHook('onClose', async () => {
    await Promise.all([...routes.values()].map((r) => r.close()))
  })
}

export const reverseProxy = fp(plugin, { name: '@proxykit/reverse-proxy', fastify: '5.x' })
export default reverseProxy
