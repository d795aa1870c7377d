import type { OutgoingHttpHeaders } from 'node:http'
import { stringify } from 'node:querystring'
import { optionChecks, type ProxyError } from '@proxykit/core'
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
  preValidationHookHandler,
  RouteOptions,
} from 'fastify'
import fp from 'fastify-plugin'
import { reverseProxy } from './index.js'

/**
 * @fastify/http-proxy's documented options, with the meaning they have there, so that moving to
 * `@proxykit/reverse-proxy/http-proxy` is changing the import. Anything else fails at registration.
 */
export interface HttpProxyOptions {
  /** The upstream's URL; a path on it is the default `rewritePrefix`, as there. */
  upstream: string
  /** Fastify's register prefix: matched, and replaced by `rewritePrefix` upstream. */
  prefix?: string
  rewritePrefix?: string
  /** Default: DELETE, GET, HEAD, PATCH, POST, PUT, OPTIONS. */
  httpMethods?: string[]
  preHandler?: preHandlerHookHandler | preHandlerHookHandler[]
  preValidation?: preValidationHookHandler | preValidationHookHandler[]
  config?: Record<string, unknown>
  constraints?: RouteOptions['constraints']
  /** Upgrades are proxied whatever its value (the README, "Migration from @fastify/http-proxy"). */
  websocket?: boolean
  replyOptions?: {
    rewriteRequestHeaders?: (request: FastifyRequest, headers: OutgoingHttpHeaders) => OutgoingHttpHeaders
    rewriteHeaders?: (headers: OutgoingHttpHeaders, request: FastifyRequest) => OutgoingHttpHeaders
    getUpstream?: (request: FastifyRequest, base: string) => string
    onError?: (reply: FastifyReply, context: { error: ProxyError }) => void
    queryString?:
      | Record<string, unknown>
      | ((search: string, reqUrl: string, request: FastifyRequest) => string)
  }
  /** `true` (the default) only: request bodies always stream to the upstream unparsed. */
  proxyPayloads?: boolean
}

const DEFAULT_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS']
const OPTIONS = new Set([
  'upstream',
  'prefix',
  'rewritePrefix',
  'httpMethods',
  'preHandler',
  'preValidation',
  'config',
  'constraints',
  'websocket',
  'replyOptions',
  'proxyPayloads',
  // Fastify's own register options.
  'logLevel',
  'logSerializers',
])
const REPLY_OPTIONS = new Set([
  'rewriteRequestHeaders',
  'rewriteHeaders',
  'getUpstream',
  'onError',
  'queryString',
])
// Options @fastify/http-proxy has that this entry cannot honour, and why: named in the error.
const WHY: Record<string, string> = {
  'replyOptions.onResponse':
    'the upstream body streams to the client on our own answer path; change headers with rewriteHeaders and bodies with an onSend hook',
  proxyPayloads: 'only true: request bodies always stream to the upstream unparsed',
  internalRewriteLocationHeader: 'only true: Location headers naming the upstream are always mapped back',
}

const { invalid } = optionChecks('@proxykit/reverse-proxy/http-proxy')

const unsupported = (option: string) =>
  invalid(option, WHY[option] ?? 'not supported by @proxykit/reverse-proxy/http-proxy')

function fn(v: unknown, option: string): void {
  if (v !== undefined && typeof v !== 'function') throw invalid(option, 'must be a function')
}

function hooks<T>(v: T | T[] | undefined, option: string): T[] {
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v]
  for (const h of list) fn(h, option)
  return list
}

/** `upstream` split as @fastify/http-proxy reads it: the origin, and the path as the default rewritePrefix. */
function upstreamParts(v: unknown): { origin: string; path: string } {
  let url: URL
  try {
    if (typeof v !== 'string' || v === '') throw new Error()
    url = new URL(v)
  } catch {
    throw invalid('upstream', 'must be an http(s) URL (an empty upstream is not supported)')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid('upstream', 'must be an http(s) URL')
  return { origin: url.origin, path: url.pathname }
}

/** reply-from's `queryString`: an object replaces the query, a function returns the new one. */
function queryRewriter(
  q: NonNullable<HttpProxyOptions['replyOptions']>['queryString'],
): preHandlerHookHandler | null {
  if (q === undefined || q === null || (q as unknown) === false) return null
  if (typeof q !== 'function' && typeof q !== 'object')
    throw invalid('replyOptions.queryString', 'must be an object or a function')
  const fixed = typeof q === 'object' ? stringify(q as never) : null
  return (request, _reply, done) => {
    const raw = request.raw
    const url = raw.url ?? '/'
    const i = url.indexOf('?')
    const path = i === -1 ? url : url.slice(0, i)
    // @fastify/http-proxy hands reply-from the path without its query, so `search` is always '' there
    // and the query is read from `reqUrl`.
    const qs = fixed ?? (q as (s: string, u: string, r: FastifyRequest) => string)('', url, request)
    raw.url = qs ? `${path}?${qs}` : path
    done()
  }
}

const plugin: FastifyPluginAsync<HttpProxyOptions> = async (fastify, opts) => {
  for (const key of Object.keys(opts)) if (!OPTIONS.has(key)) throw unsupported(key)
  const reply = (opts.replyOptions ?? {}) as Record<string, unknown>
  for (const key of Object.keys(reply)) if (!REPLY_OPTIONS.has(key)) throw unsupported(`replyOptions.${key}`)
  if (opts.proxyPayloads === false) throw unsupported('proxyPayloads')
  const { origin, path } = upstreamParts(opts.upstream)
  const methods = opts.httpMethods ?? DEFAULT_METHODS
  if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => typeof m === 'string'))
    throw invalid('httpMethods', 'must be a non-empty array of method names')
  for (const m of methods)
    if (!fastify.supportedMethods.includes(m.toUpperCase()))
      throw invalid('httpMethods', `${m} is not a method this Fastify instance supports`)
  const preHandlers = hooks(opts.preHandler, 'preHandler')
  const preValidations = hooks(opts.preValidation, 'preValidation')
  if (opts.config !== undefined && (typeof opts.config !== 'object' || opts.config === null))
    throw invalid('config', 'must be an object')
  for (const name of ['rewriteRequestHeaders', 'rewriteHeaders', 'getUpstream', 'onError'])
    fn(reply[name], `replyOptions.${name}`)
  const rewriteQuery = queryRewriter(opts.replyOptions?.queryString)
  const getUpstream = opts.replyOptions?.getUpstream

  // Our plugin registers its routes in this (encapsulated) context; shape them as @fastify/http-proxy's.
  fastify.addHook('onRoute', (route) => {
    route.method = methods
    route.config = { ...opts.config, ...(route.config as object) }
    if (opts.constraints !== undefined) route.constraints = { ...opts.constraints, ...route.constraints }
    const pre = rewriteQuery === null ? preHandlers : [...preHandlers, rewriteQuery]
    if (pre.length > 0) route.preHandler = pre
  })
  for (const h of preValidations) fastify.addHook('preValidation', h)

  await fastify.register(reverseProxy, {
    // What @fastify/http-proxy leaves alone: no forwarding headers added, the upstream's headers kept.
    xForwarded: false,
    forwarded: false,
    hideHeaders: [],
    routes: [
      {
        name: 'http-proxy',
        upstreams: [origin],
        rewritePrefix: opts.rewritePrefix || path,
        ...(opts.replyOptions?.rewriteRequestHeaders === undefined
          ? {}
          : { rewriteRequestHeaders: opts.replyOptions.rewriteRequestHeaders }),
        ...(opts.replyOptions?.rewriteHeaders === undefined
          ? {}
          : { rewriteHeaders: opts.replyOptions.rewriteHeaders }),
        // reply-from hands getUpstream the configured upstream as given, path included.
        ...(getUpstream === undefined
          ? {}
          : { getUpstream: (request) => getUpstream(request, opts.upstream) }),
        ...(opts.replyOptions?.onError === undefined ? {} : { onError: opts.replyOptions.onError }),
      },
    ],
  })
}

/** A drop-in for @fastify/http-proxy: `import proxy from '@proxykit/reverse-proxy/http-proxy'`. */
export const httpProxy = fp(plugin, {
  name: '@proxykit/reverse-proxy/http-proxy',
  fastify: '5.x',
  encapsulate: true,
})
export default httpProxy
