import {
  answerAsFinalRecipient,
  BadGatewayError,
  BadRequestError,
  blamesUpstream,
  gatewayError,
  IDEMPOTENT_METHODS,
  maxForwards,
  mayResend,
  NotImplementedError,
  type ProxyError,
  type RelayRequest,
  relay,
  ServiceUnavailableError,
  sendError,
  UpstreamBadResponseError,
  UpstreamClosedError,
  UpstreamConnectError,
  UpstreamConnectTimeoutError,
  type UpstreamFailure,
  UpstreamHeadersTimeoutError,
  upstreamFailure,
} from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type HeaderSettings, requestHeaders, responseHeaders, rewritePath } from './headers.js'
import { protocolMismatch } from './options.js'
import type { ProxyRoute } from './route.js'
import { Upstream } from './upstream.js'

/**
 * The route's answer to an upstream failure (a member of core's `PK_UPSTREAM` family): its status is
 * the failure's (504 for a timeout, 502 otherwise), the message says what happened in the route's terms.
 */
export function failureAnswer(failure: UpstreamFailure, route: ProxyRoute): ProxyError {
  const t = route.options.timeouts
  let message: string
  if (failure instanceof UpstreamConnectTimeoutError)
    message = `no connection to the upstream within ${t.connect} ms`
  else if (failure instanceof UpstreamConnectError) message = 'the upstream refused the connection'
  else if (failure instanceof UpstreamHeadersTimeoutError)
    message = `the upstream did not answer within ${t.headers} ms`
  else if (failure instanceof UpstreamClosedError)
    message = 'the upstream closed the connection before answering'
  else if (failure instanceof UpstreamBadResponseError)
    message = `the upstream's response is malformed (${failure.message})`
  else message = 'the upstream request failed'
  return gatewayError(failure, message)
}

function hasBody(request: FastifyRequest): boolean {
  const h = request.raw.headers
  // HTTP/2 frames a body without Content-Length (gRPC never sends one): there is none only when the
  // client's HEADERS frame ended the stream.
  if (request.raw.httpVersionMajor === 2 && h['content-length'] === undefined)
    return (
      (request.raw as unknown as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders !== true
    )
  return (
    h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0')
  )
}

// A `.` or `..` path segment, literal or percent-encoded: `/api/../admin` matches the `/api/*` route here
// but means `/admin` to the upstream, escaping the route's prefix.
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:[/?#\\]|%2f|%5c|$)/i

/** A request-target that would resolve outside the prefix it was routed by, or null when it is fine. */
export function escapesPrefix(url: string): ProxyError | null {
  if (!url.includes('.') && !url.includes('%')) return null
  const q = url.indexOf('?')
  return DOT_SEGMENT.test(q === -1 ? url : url.slice(0, q))
    ? new BadRequestError('the path contains a dot-segment (. or ..)')
    : null
}

/** The path and query sent upstream: `rewritePrefix`, then the route's `rewritePath` hook when it has one. */
export function upstreamPath(request: FastifyRequest, route: ProxyRoute): string {
  const path = rewritePath(request.raw.url ?? '/', route.options)
  const hook = route.options.rewritePath
  if (hook === null) return path
  const out = hook(request, path)
  // A request-target in origin-form starts with '/' (RFC 9112 §3.2.1), whatever the hook returned.
  return out.startsWith('/') ? out : `/${out}`
}

/** The upstream for what a `getUpstream` hook returned: any http(s) URL, of which the origin counts. */
function chosenUpstream(route: ProxyRoute, chosen: unknown): Upstream | ProxyError {
  let url: URL | null = null
  try {
    if (typeof chosen === 'string') url = new URL(chosen)
  } catch {}
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    return new BadGatewayError(`getUpstream returned ${JSON.stringify(chosen)}, not an http(s) URL`)
  const wrong = protocolMismatch(route.options.protocol, url.origin)
  if (wrong !== null) return new BadGatewayError(`getUpstream returned ${url.origin}, which ${wrong}`)
  return route.byOrigin(url.origin)
}

/**
 * An upstream failure (our 502, 503, 504) is the route's onError's to answer, as reply-from's, while
 * nothing of the answer has been sent; without one, or once it has, the default answer. A module
 * function rather than a closure in `proxyRequest`, which would be allocated for every request.
 */
function fail(
  route: ProxyRoute,
  request: FastifyRequest,
  reply: FastifyReply,
  error: ProxyError,
  headers?: Record<string, string>,
): void {
  const onError = route.options.onError
  if (onError === null || reply.sent || reply.raw.headersSent) {
    sendError(reply, error, headers)
    return
  }
  try {
    onError(reply, { error })
  } catch (thrown) {
    // A throwing handler is an error of the app's: Fastify's error handler answers it.
    if (!reply.sent && !reply.raw.headersSent) reply.send(thrown)
    else request.log.error({ err: thrown }, 'onError threw after answering')
  }
}

/**
 * Sends one request to a balanced upstream and streams the answer back through core's `relay` (so the
 * cache's response filter sees it, and the route's answer path is taken). An idempotent request without a
 * body that fails before any response arrives is retried on another upstream, within the route's budget; a request with
 * a body is a stream that has been consumed, so it is never sent twice.
 */
export function proxyRequest(
  route: ProxyRoute,
  settings: HeaderSettings,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const ctx = request.proxy
  ctx.direction = 'reverse'
  // Not hijacked here: core's relay answers on the route's path once the upstream's head is there, so an
  // error before it (a 400, a 502, a 504) still goes through Fastify's error handler.
  const req = request.raw
  // RFC 9110 §7.6.2 binds a gateway as it does a proxy: a TRACE or OPTIONS at 0 hops is answered here.
  const hops = maxForwards(req)
  if (hops === 'invalid') {
    sendError(reply, new BadRequestError('invalid Max-Forwards'))
    return
  }
  if (hops === 0) {
    answerAsFinalRecipient(request, reply, settings.methods)
    return
  }
  const res = reply.raw
  const method = req.method ?? 'GET'
  const escaped = escapesPrefix(req.url ?? '/')
  if (escaped !== null) {
    sendError(reply, escaped)
    return
  }
  const te = req.headers['transfer-encoding']
  if (te !== undefined && te.toLowerCase() !== 'chunked') {
    // RFC 9112 §6.1: 501 for a coding we do not understand. Anything but a lone `chunked` (`identity`,
    // repeated TE lines, `gzip, chunked`) is a classic desync shape, so the connection is closed too.
    sendError(reply, new NotImplementedError(`Transfer-Encoding '${te}' is not supported`), {
      connection: 'close',
    })
    return
  }
  const body = hasBody(request)
  const maxAttempts =
    1 +
    (route.options.retries === false || body || !IDEMPOTENT_METHODS.has(method)
      ? 0
      : route.options.retries.attempts)
  const hooks = route.options
  let outgoing = requestHeaders(request, route.options, settings, false)
  if (hops !== null) outgoing['max-forwards'] = String(hops - 1)
  if (hooks.rewriteRequestHeaders !== null) outgoing = hooks.rewriteRequestHeaders(request, outgoing)
  const dispatch: RelayRequest = {
    method,
    path: upstreamPath(request, route),
    headers: outgoing,
    body: body ? req : null,
  }
  const tried: Upstream[] = []
  route.budget?.deposit()

  const giveUp = (lastError: ProxyError | null): void => {
    if (lastError === null) {
      fail(
        route,
        request,
        reply,
        new ServiceUnavailableError(`no healthy upstream for route '${route.options.name}'`),
        {
          'retry-after': String(route.retryAfter()),
        },
      )
      return
    }
    if (tried.length > 0) ctx.upstream = { url: tried[tried.length - 1]!.url, attempts: tried.length }
    fail(route, request, reply, lastError)
  }

  const attempt = (lastError: ProxyError | null, resetBy: Upstream | null = null): void => {
    // A retry needs room in the budget, and spends from it only when there is somewhere to send it.
    const retry = tried.length > 0
    if (tried.length >= maxAttempts || (retry && (route.budget === null || !route.budget.available()))) {
      giveUp(lastError)
      return
    }
    // An upstream not tried yet for this request, as nginx's proxy_next_upstream. With none left, one
    // resend to an upstream that closed the connection before answering, if it was tried only once: that
    // is how a kept-alive connection the upstream closed just as the request went out fails (nginx resends
    // on a cached connection too). A refused or timed-out connection is never resent to the same upstream.
    let picked = route.pick(request, tried)
    if (picked === null && resetBy !== null && tried.indexOf(resetBy) === tried.lastIndexOf(resetBy))
      picked = route.pick(
        request,
        tried.filter((u) => u !== resetBy),
      )
    if (picked === null) {
      giveUp(lastError)
      return
    }
    let upstream = picked
    if (hooks.getUpstream !== null) {
      const chosen = chosenUpstream(route, hooks.getUpstream(request, upstream.url))
      if (!(chosen instanceof Upstream)) {
        fail(route, request, reply, chosen)
        return
      }
      upstream = chosen
    }
    if (retry) route.budget!.withdraw()
    tried.push(upstream)
    const attempts = tried.length
    const seq = upstream.begin()
    const start = performance.now()
    relay(upstream.pool, dispatch, request, reply, {
      headers: (statusCode, headers) => {
        const now = performance.now()
        upstream.recordLatency(now - start, now)
        route.outcome(upstream, seq, statusCode)
        ctx.upstream = { url: upstream.url, attempts }
        const out = responseHeaders(headers, request, route, settings)
        return hooks.rewriteHeaders === null ? out : hooks.rewriteHeaders(out, request)
      },
      failed: (err) => {
        upstream.end()
        const failure = upstreamFailure(err)
        if (blamesUpstream(failure)) route.outcome(upstream, seq, null)
        const error = failureAnswer(failure, route)
        if (mayResend(failure)) attempt(error, failure instanceof UpstreamClosedError ? upstream : null)
        else giveUp(error)
      },
      done: (err) => {
        upstream.end()
        if (err === null) return
        // The upstream failing mid-body counts against its health; the client leaving does not.
        const code = (err as { code?: string }).code
        if (code !== 'ERR_STREAM_PREMATURE_CLOSE') route.outcome(upstream, seq, null)
        if (!res.destroyed) res.destroy()
      },
    })
  }
  attempt(null)
}
