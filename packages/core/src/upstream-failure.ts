import {
  BadGatewayError,
  GatewayTimeoutError,
  type ProxyError,
  UpstreamBadResponseError,
  UpstreamBodyTimeoutError,
  UpstreamClosedError,
  UpstreamConnectError,
  UpstreamConnectTimeoutError,
  UpstreamDestroyedError,
  UpstreamError,
  UpstreamHeadersTimeoutError,
} from './errors.js'

/** A member of the `PK_UPSTREAM` family (`errors.ts`). */
export type UpstreamFailure = ProxyError

/** What an error says about itself: a system error's code (ECONNREFUSED), else its message. */
function detailOf(err: unknown, code: string): string {
  if (code !== '' && !code.startsWith('UND_ERR') && !code.startsWith('PK_')) return code
  return err instanceof Error ? err.message : String(err)
}

/**
 * The one mapping from whatever an exchange with an upstream, or a dial to it, ended with to the
 * `PK_UPSTREAM` family: a member of it is returned as it is; a system error (ECONNREFUSED …) or one of
 * undici's (a parent proxy's `ProxyAgent`) becomes the member that says what happened, with the
 * original as its `cause`; anything else is the family's base, `PK_UPSTREAM`. Its `statusCode` is the
 * answer a proxy owes the client: 504 for the timeouts, 502 for the rest.
 */
export function upstreamFailure(err: unknown): UpstreamFailure {
  if (err instanceof UpstreamError) return err as UpstreamFailure
  const raw = (err as { code?: unknown } | null)?.code
  const code = typeof raw === 'string' ? raw : ''
  const detail = detailOf(err, code)
  const options = { cause: err }
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UpstreamConnectError(detail, options)
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new UpstreamConnectTimeoutError(detail, options)
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new UpstreamHeadersTimeoutError(detail, options)
    case 'UND_ERR_BODY_TIMEOUT':
      return new UpstreamBodyTimeoutError(detail, options)
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return new UpstreamClosedError(detail, options)
    case 'ABORT_ERR':
    case 'UND_ERR_ABORTED':
      return new UpstreamDestroyedError(detail, options)
    default:
      return new UpstreamError(detail, options)
  }
}

/**
 * The request cannot have reached the upstream's application, or it closed without answering: safe to
 * send again (a refused or timed-out connect, a reset before the head).
 */
export function mayResend(failure: UpstreamFailure): boolean {
  return failure instanceof UpstreamConnectError || failure instanceof UpstreamClosedError
}

/**
 * The failure is the upstream's (it counts against its health): no connection, a reset, a timeout or a
 * malformed answer; not the proxy ending the exchange, a request it could not send, or an unknown error.
 */
export function blamesUpstream(failure: UpstreamFailure): boolean {
  return (
    failure instanceof UpstreamConnectError ||
    failure instanceof UpstreamClosedError ||
    failure instanceof UpstreamHeadersTimeoutError ||
    failure instanceof UpstreamBodyTimeoutError ||
    failure instanceof UpstreamBadResponseError
  )
}

/** The answer a proxy gives for `failure`: `PK_GATEWAY_TIMEOUT` or `PK_BAD_GATEWAY` by its status. */
export function gatewayError(failure: UpstreamFailure, message: string): ProxyError {
  return failure.statusCode === 504
    ? new GatewayTimeoutError(message, { cause: failure })
    : new BadGatewayError(message, { cause: failure })
}
