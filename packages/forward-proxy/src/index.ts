import { type IncomingMessage, METHODS } from 'node:http'
import {
  CONNECT_PATH,
  FORWARD_PATH,
  installProxyContext,
  kForwardBridged,
  kOriginalTarget,
  NotImplementedError,
  optionChecks,
  sendError,
} from '@proxykit/core'
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify'
import fp from 'fastify-plugin'
import { type ForwardContext, forwardRequest } from './forward.js'
import { genReqIdSymbol, getGenReqId, setGenReqId } from './internals.js'
import { type ForwardProxyOptions, resolveOptions } from './options.js'
import { OriginPools, parentDispatcher } from './pools.js'
import { bridgeConnect, openTunnel, type TunnelSet } from './tunnel.js'

export { addressDenied } from './guard.js'
export {
  defaults,
  type ForwardProxyOptions,
  type LookupAddress,
  type LookupFunction,
  type ParentProxyOptions,
} from './options.js'
export { type OwnAddress, reachesOwnListener } from './own-listeners.js'

/**
 * The forward routes' request-id generator, which Fastify calls first thing once the router has matched
 * FORWARD_PATH or CONNECT_PATH, before it builds the child logger, the request and logs 'incoming request':
 * `req.url` gets the client's target back (`http://host/path`, `host:443`), so Fastify's log,
 * `request.url` and every hook see it, and the id is the one the app's own generator gives. It stands in
 * for a child-logger factory, which did the same at a cost: a custom factory makes Fastify build a child
 * logger per request even when logging is off, and validate it (about 4% of a forward request).
 * Fastify's setter (`setGenReqId`) would put `requestIdHeader`'s check in front of it, which skips the
 * generator when the client sends that header: so the context's generator is set under Fastify's own
 * symbol, found once by its description. Without that symbol, the child-logger factory does the work.
 */
function restoreTargetFirst(routes: FastifyInstance, parent: FastifyInstance): void {
  const kGenReqId = genReqIdSymbol(parent)
  if (kGenReqId === null) {
    routes.setChildLoggerFactory(restoreTarget)
    return
  }
  setGenReqId(routes, kGenReqId, (raw: IncomingMessage & { [kOriginalTarget]?: string }) => {
    const target = raw[kOriginalTarget]
    if (target !== undefined) raw.url = target
    // Read per request: the app may set its generator after this plugin registered.
    return getGenReqId(parent, kGenReqId)(raw)
  })
}

/** The fallback of `restoreTargetFirst`: the same, as a child-logger factory. */
function restoreTarget(
  logger: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  options: object,
  raw: IncomingMessage & { [kOriginalTarget]?: string },
): FastifyBaseLogger {
  const target = raw[kOriginalTarget]
  if (target !== undefined) raw.url = target
  return logger.child(bindings, options)
}

/** Methods Node's parser accepts that are not proxied: RFC 9110 §15.6.2, 501, naming nothing internal. */
function notProxied(request: FastifyRequest, reply: FastifyReply): void {
  if (request.proxy.form !== 'absolute') reply.callNotFound()
  else sendError(reply, new NotImplementedError(`${request.raw.method} is not proxied`))
}

/**
 * Makes the Fastify server a forward proxy: absolute-form requests (`GET http://host/path`) and CONNECT
 * tunnels, both routed through Fastify's own lifecycle so every hook (access control, rate limits, the
 * cache) applies to them, while origin-form requests still reach the app's own routes.
 */
const plugin: FastifyPluginAsync<ForwardProxyOptions> = async (fastify, options) => {
  // A forward request's target is a whole URL (or host:port): no path prefix can select it, and the
  // bridge routes it to one fixed internal path, which a prefix would move out of reach (404).
  const prefix = (options as { prefix?: unknown }).prefix || fastify.prefix
  if (prefix)
    throw optionChecks('@proxykit/forward-proxy').invalid(
      'prefix',
      `a forward proxy serves absolute-form targets, which have no path prefix; register it outside any prefixed context (got '${String(prefix)}')`,
    )
  installProxyContext(fastify)
  const opts = resolveOptions(options)
  const server = fastify.server as typeof fastify.server & { [kForwardBridged]?: boolean }
  if (server[kForwardBridged] === true)
    throw new Error('@proxykit/forward-proxy is already registered on this server')
  server[kForwardBridged] = true
  server.on('listening', () => {
    const bound = server.address()
    if (typeof bound === 'object' && bound !== null)
      opts.selfAddresses.push({ address: bound.address, port: bound.port })
  })

  // Absolute-form targets are moved to FORWARD_PATH before Fastify routes them, so the app's `/health`
  // cannot catch `GET http://x/health` (find-my-way matches on the path alone); restoreTargetFirst puts the
  // target back once the router has chosen the forward route.
  server.prependListener('request', (req: IncomingMessage) => {
    const url = req.url
    if (url === undefined || url.length === 0) return
    const c = url.charCodeAt(0)
    if (c === 47 /* / */ || c === 42 /* * */) return
    ;(req as IncomingMessage & { [kOriginalTarget]?: string })[kOriginalTarget] = url
    req.url = FORWARD_PATH
  })

  for (const m of opts.extraMethods)
    if (!fastify.supportedMethods.includes(m)) fastify.addHttpMethod(m, { hasBody: true })
  if (!fastify.supportedMethods.includes('CONNECT')) fastify.addHttpMethod('CONNECT')

  const pools = new OriginPools(opts, await parentDispatcher(opts))
  const tunnels: TunnelSet = new Set()
  bridgeConnect(fastify, tunnels)
  const forwardMethods = fastify.supportedMethods.filter((m) => m !== 'CONNECT')
  // The rest of what Node's parser accepts (M-SEARCH, PURGE, LINK …) gets a route too, answering 501, so
  // that Fastify's 404 ("Route M-SEARCH:/__proxykit/forward not found") never names the internal path.
  const unproxied = METHODS.filter((m) => !fastify.supportedMethods.includes(m))
  for (const m of unproxied) fastify.addHttpMethod(m, { hasBody: true })
  const forwardContext: ForwardContext = { opts, pools, methods: forwardMethods.join(', ') }

  // The routes live in their own context: its content-type parser leaves every body unread, so bodies
  // stream to the origin instead of being parsed (and bounded by bodyLimit) here.
  await fastify.register(async (routes) => {
    restoreTargetFirst(routes, fastify)
    routes.removeAllContentTypeParsers()
    routes.addContentTypeParser('*', (_req, _payload, done) => done(null))
    routes.route({ method: forwardMethods, url: FORWARD_PATH, handler: forwardRequest.bind(forwardContext) })
    routes.route({ method: 'CONNECT', url: CONNECT_PATH, handler: openTunnel.bind({ opts }) })
    if (unproxied.length > 0) routes.route({ method: unproxied, url: FORWARD_PATH, handler: notProxied })
  })

  const closeTunnels = async () => {
    for (const socket of tunnels) socket.destroy()
    tunnels.clear()
  }
  fastify.addHook('preClose', closeTunnels)
  fastify.addHook('onClose', async () => {
    await closeTunnels()
    await pools.close()
  })
}

export const forwardProxy = fp(plugin, { name: '@proxykit/forward-proxy', fastify: '5.x' })
export default forwardProxy
