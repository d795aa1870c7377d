import createError from '@fastify/error'

// Every error a proxykit plugin answers with. The status code is the HTTP answer; the message is the
// `message` of the JSON error body the client sees (see `sendError`), so keep it one sentence that says why.
export const BadRequestError = createError('PK_BAD_REQUEST', 'Bad request: %s', 400)
export const BadTargetError = createError('PK_BAD_TARGET', 'Bad request-target: %s', 400)
export const BadHostError = createError('PK_BAD_HOST', 'Bad Host header: %s', 400)
export const UnauthorizedError = createError('PK_UNAUTHORIZED', 'Authentication required: %s', 401)
export const ForbiddenError = createError('PK_FORBIDDEN', 'Forbidden: %s', 403)
export const ProxyAuthRequiredError = createError(
  'PK_PROXY_AUTH_REQUIRED',
  'Proxy authentication required: %s',
  407,
)
// RFC 9110 §15.5.14 (formerly Payload Too Large).
export const ContentTooLargeError = createError('PK_CONTENT_TOO_LARGE', 'Content too large: %s', 413)
export const TooManyRequestsError = createError('PK_TOO_MANY_REQUESTS', 'Too many requests: %s', 429)
export const LoopDetectedError = createError('PK_LOOP_DETECTED', 'Forwarding loop detected: %s', 508)
export const BadGatewayError = createError('PK_BAD_GATEWAY', 'Bad gateway: %s', 502)
export const ServiceUnavailableError = createError('PK_SERVICE_UNAVAILABLE', 'Service unavailable: %s', 503)
export const GatewayTimeoutError = createError('PK_GATEWAY_TIMEOUT', 'Gateway timeout: %s', 504)
export const NotImplementedError = createError('PK_NOT_IMPLEMENTED', 'Not implemented: %s', 501)
export const InternalError = createError('PK_INTERNAL', 'Internal error: %s', 500)

// How an exchange with an upstream failed: one family under `PK_UPSTREAM`, nested as @fastify/reply-from
// nests its errors, so `err instanceof UpstreamError` (or `UpstreamConnectError`) answers "which kind"
// without a table of codes. Core's HTTP/1.1 client (`http1/`) raises the family's own members; any other
// error an exchange or a dial ends with (ECONNREFUSED, undici's codes) becomes one through
// `upstreamFailure` (`upstream-failure.ts`), the one place that reads errno strings. The proxies answer
// with a 502 or a 504 (`PK_BAD_GATEWAY`, `PK_GATEWAY_TIMEOUT`) whose `cause` is the family member: the
// status is the member's own.
export const UpstreamError = createError('PK_UPSTREAM', 'Upstream failed: %s', 502)
// @fastify/error's types take only ErrorConstructors as a base; its own constructors work as one.
const base = (parent: unknown) => parent as ErrorConstructor
/** No connection: refused, unreachable, the name not resolved. Nothing was sent. */
export const UpstreamConnectError = createError(
  'PK_UPSTREAM_CONNECT',
  'Cannot connect to the upstream: %s',
  502,
  base(UpstreamError),
)
export const UpstreamConnectTimeoutError = createError(
  'PK_UPSTREAM_CONNECT_TIMEOUT',
  'Upstream connect timeout: %s',
  504,
  base(UpstreamConnectError),
)
export const UpstreamHeadersTimeoutError = createError(
  'PK_UPSTREAM_HEADERS_TIMEOUT',
  'Upstream headers timeout: %s',
  504,
  base(UpstreamError),
)
export const UpstreamBodyTimeoutError = createError(
  'PK_UPSTREAM_BODY_TIMEOUT',
  'Upstream body timeout: %s',
  504,
  base(UpstreamError),
)
/** The reset: the upstream closed or reset the connection (before answering, or in the middle). */
export const UpstreamClosedError = createError(
  'PK_UPSTREAM_CLOSED',
  'Upstream closed the connection: %s',
  502,
  base(UpstreamError),
)
export const UpstreamBadResponseError = createError(
  'PK_UPSTREAM_BAD_RESPONSE',
  'Bad upstream response: %s',
  502,
  base(UpstreamError),
)
/** The proxy itself ended the exchange (the client went away, the pool was destroyed). */
export const UpstreamDestroyedError = createError(
  'PK_UPSTREAM_DESTROYED',
  'Upstream connection closed by the proxy: %s',
  502,
  base(UpstreamError),
)
export const UpstreamBadRequestError = createError(
  'PK_UPSTREAM_BAD_REQUEST',
  'Cannot send upstream: %s',
  502,
  base(UpstreamError),
)

/** A coded proxykit error: what every constructor above returns. */
export interface ProxyError extends Error {
  code: string
  statusCode: number
  cause?: unknown
}

export function isProxyError(err: unknown): err is ProxyError {
  return (
    err instanceof Error &&
    typeof (err as ProxyError).code === 'string' &&
    (err as ProxyError).code.startsWith('PK_') &&
    typeof (err as ProxyError).statusCode === 'number'
  )
}

// An option a plugin (or a route's config) cannot use, found when the plugin is registered or the route
// declared: never answered to a client. One code for every plugin, the message naming the plugin, the
// option's path and the rule (`@proxykit/cache: route /a: config.cache.ttl: must be …`). A TypeError, as
// Node's own option checks throw. Build it with core's `optionChecks(plugin)` (`option-checks.ts`).
export const InvalidOptionError = createError<'PK_INVALID_OPTION', 500, [string, string, string]>(
  'PK_INVALID_OPTION',
  '%s: %s: %s',
  500,
  TypeError,
)
