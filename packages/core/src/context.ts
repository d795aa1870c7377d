import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { connectionMemo } from './connection.js'
import { BadHostError, BadRequestError, BadTargetError, type ProxyError } from './errors.js'
import { requestHost } from './host.js'
import { phaseHook } from './phases.js'
import { sendError } from './respond.js'
import {
  hasEncodedControlInPath,
  type ProxyTarget,
  parseAbsoluteTarget,
  parseAuthorityTarget,
  parseHostHeader,
  type RequestForm,
  requestForm,
} from './target.js'

/** A response on its way from an upstream to the client, before its head is written. */
export interface UpstreamResponse {
  statusCode: number
  /** Lower-case names; hop-by-hop headers already removed. Filters may change them. */
  headers: OutgoingHttpHeaders
  /** The body; a filter may replace it (a cache tees it). null for a response without a body. */
  body: Readable | null
}

/**
 * Called by a proxy's response path for every upstream response, in order, before the head is written:
 * the pre-cache stage (response-stages.ts), whose result is what the cache stores. The proxies answer on
 * `reply.raw` (see docs/architecture.md), so Fastify's `onSend` does not run for them: this is the phase
 * in which the cache stores.
 */
export type ResponseFilter = (request: FastifyRequest, response: UpstreamResponse) => void

/** Called with the address a forward proxy is about to connect to (after DNS); a string denies, with why. */
export type ConnectGuard = (address: string, family: 4 | 6, request: FastifyRequest) => string | null

export interface AccessRecord {
  decision: 'allow' | 'deny' | 'report'
  rule: string | null
  user: string | null
  /** What the user's credentials said about them (a JWT's claims), when there were any. */
  claims?: Record<string, unknown>
}

export interface UpstreamRecord {
  /** The upstream (origin URL or `host:port`) the response came from. */
  url: string
  attempts: number
}

/**
 * The per-request state the plugins share (`request.proxy`). Each plugin writes only its own slice and
 * reads the rest; core builds it in the first `onRequest` hook.
 */
export interface ProxyContext {
  form: RequestForm
  /** Absolute-form and authority-form: where the client asked to go. */
  target: ProxyTarget | null
  /** Origin-form: the normalised hostname of the Host header (null when absent). */
  host: string | null
  /** Set by the plugin that handles the request. */
  direction: 'forward' | 'reverse' | null
  /**
   * Written by access-control, and by a proxy that refuses a request by its own policy afterwards (the
   * forward proxy's `forward.connectPorts`, `forward.allow`, `forward.deny`), so logs name what refused.
   */
  access: AccessRecord | null
  /** Written by the cache: the RFC 9211 Cache-Status value for this request. */
  cache: string | null
  /** Written by the proxy that sent the request on. */
  upstream: UpstreamRecord | null
  /** Response filters registered for this request (cache). */
  responseFilters: ResponseFilter[]
  /** Checks run on the connected address (access-control's address rules). */
  connectGuards: ConnectGuard[]
}

declare module 'fastify' {
  interface FastifyRequest {
    proxy: ProxyContext
  }
}

/**
 * The request-target as the client sent it, when a plugin had to rewrite `req.url` before Fastify routed
 * the request: the forward proxy rewrites absolute-form targets to `FORWARD_PATH` (so the app's own
 * `/health` cannot catch `GET http://x/health`) and CONNECT authorities to `CONNECT_PATH` (the router
 * rejects `host:port`). Classification always reads the original.
 */
export const kOriginalTarget = Symbol.for('proxykit.originalTarget')
/**
 * Set on the node server by @proxykit/forward-proxy when it bridges absolute-form requests into Fastify:
 * those are its proxy requests, so the reverse proxy's own absolute-form rewrite stays out of the way.
 * In core because the two plugins never import each other.
 */
export const kForwardBridged = Symbol.for('proxykit.forwardProxy.bridged')
/** The fixed path CONNECT requests are routed to once inside Fastify. */
export const CONNECT_PATH = '/__proxykit/connect'
/** The fixed path absolute-form requests are routed to once inside Fastify. */
export const FORWARD_PATH = '/__proxykit/forward'

const HOST_MEMO_MAX = 512
const hostMemo = new Map<string, string>()

function classify(request: FastifyRequest): ProxyError | ProxyContext {
  const raw = request.raw as IncomingMessage & { [kOriginalTarget]?: string }
  const url = raw[kOriginalTarget] ?? raw.url ?? '/'
  const form = requestForm(raw.method ?? 'GET', url)
  let target: ProxyTarget | null = null
  let host: string | null = null
  // RFC 9112 §3.2: more than one Host line, or an invalid one, is a 400 whatever the form.
  let hostLines = 0
  const rawHeaders = raw.rawHeaders
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const n = rawHeaders[i]!
    // Case-insensitive "host" by character codes (c | 32 folds only A-Z onto a-z): comparing against a
    // literal calls a string-equality builtin per header, which showed in instruction counts.
    if (
      n.length === 4 &&
      (n.charCodeAt(0) | 32) === 104 &&
      (n.charCodeAt(1) | 32) === 111 &&
      (n.charCodeAt(2) | 32) === 115 &&
      (n.charCodeAt(3) | 32) === 116
    )
      hostLines++
  }
  if (hostLines > 1) return new BadHostError('more than one Host header')
  const hostHeader = requestHost(raw)
  // RFC 9113 §8.3.1: an HTTP/2 request whose Host names another entity than its `:authority` is
  // malformed. Passed on, one name would be checked here and the other reach the upstream.
  if (raw.httpVersionMajor === 2 && raw.headers.host !== undefined && hostHeader !== undefined) {
    if (raw.headers.host.toLowerCase() !== hostHeader.toLowerCase())
      return new BadHostError('Host differs from :authority')
  }
  if (form === 'absolute') {
    const parsed = parseAbsoluteTarget(url)
    if (parsed instanceof Error) return parsed
    target = parsed
  } else if (form === 'authority') {
    const parsed = parseAuthorityTarget(url)
    if (parsed instanceof Error) return parsed
    target = parsed
  } else if (form === 'asterisk' && raw.method !== 'OPTIONS') {
    return parseAbsoluteTarget('*') as ProxyError
  }
  // Before any rule runs: a path rule cannot be trusted on a path the origin may read differently.
  if (hasEncodedControlInPath(target === null ? url : target.path))
    return new BadTargetError('encoded control character in path')
  if (hostHeader !== undefined && hostHeader !== '' && form !== 'absolute') {
    // Cheapest first: the connection's previous Host (a string comparison; a Map lookup hashes the new
    // header string every time, which showed in instruction counts), then every valid Host seen lately.
    const memo = raw.socket == null ? null : connectionMemo(raw.socket)
    const known = memo !== null && memo.hostHeader === hostHeader ? memo.hostname : hostMemo.get(hostHeader)
    if (known !== undefined) host = known
    else {
      const parsed = parseHostHeader(hostHeader)
      if (parsed instanceof Error) return parsed
      host = parsed.hostname
      // A server sees few distinct Host values; remembering the valid ones saves a URL parse per request.
      if (hostMemo.size >= HOST_MEMO_MAX) hostMemo.clear()
      hostMemo.set(hostHeader, host)
    }
    if (memo !== null && memo.hostHeader !== hostHeader) {
      memo.hostHeader = hostHeader
      memo.hostname = host
    }
  }
  return {
    form,
    target,
    host,
    direction: null,
    access: null,
    cache: null,
    upstream: null,
    responseFilters: [],
    connectGuards: [],
  }
}

// Callback style, not async: it runs for every request, and a promise per request is measurable on the
// hot path. When it answers (a 400) it does not call `done`, as Fastify asks of a hook that replies.
function onRequestClassify(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  // RFC 9112 §6.3: a request whose Transfer-Encoding does not end in chunked has no determinable length.
  // Node dispatches it anyway (and fails on the body later), so a proxy would already be forwarding it:
  // refuse it here, before any handler, and close the connection since its framing is unknown.
  const te = request.raw.headers['transfer-encoding']
  if (te !== undefined && !endsInChunked(te)) {
    sendError(reply, new BadRequestError('Transfer-Encoding must end in chunked'), { connection: 'close' })
    return
  }
  const ctx = classify(request)
  if (ctx instanceof Error) {
    sendError(reply, ctx)
    return
  }
  request.proxy = ctx
  done()
}

function endsInChunked(te: string): boolean {
  const last = te.slice(te.lastIndexOf(',') + 1).trim()
  return last.length === 7 && last.toLowerCase() === 'chunked'
}

const kInstalled = Symbol.for('proxykit.contextInstalled')

/**
 * Installs `request.proxy` and the classifying `onRequest` hook on `fastify`, once: every proxykit plugin
 * calls this first, so any of them works registered alone and the hook runs before any of theirs.
 * Call it on the instance your plugin received (it is non-encapsulated when wrapped by fastify-plugin).
 */
export function installProxyContext(fastify: FastifyInstance): void {
  const f = fastify as FastifyInstance & { [kInstalled]?: boolean }
  if (f[kInstalled] === true || fastify.hasRequestDecorator('proxy')) return
  f[kInstalled] = true
  fastify.decorateRequest('proxy', null as unknown as ProxyContext)
  fastify.addHook(phaseHook('classify', 'core'), onRequestClassify)
}
