import type { Duplex } from 'node:stream'

/** What Node's parser reports for a request it cannot read (`clientError`). */
export interface ClientError extends Error {
  code?: string
  /** llhttp's short reason (`Invalid header value char`, `Duplicate Content-Length` …). */
  reason?: string
}

const ANSWERS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'Request timeout: the request did not arrive in time'],
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'Request header fields too large'],
}

/**
 * A Fastify `clientErrorHandler` (factory option) that answers requests Node's parser refuses the way
 * proxykit answers everything else: a one-line `text/plain` body saying why, then the connection closed.
 * Fastify's default answers `{"message":"Client Error"}` as JSON. Malformed framing (duplicate or
 * conflicting Content-Length, Content-Length with Transfer-Encoding, obs-fold, bare LF …) ends up here:
 *
 *   Fastify({ clientErrorHandler })
 */
export function clientErrorHandler(err: ClientError, socket: Duplex): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const known = err.code === undefined ? undefined : ANSWERS[err.code]
  const [status, label, message] = known ?? [
    400,
    'Bad Request',
    `Bad request: malformed HTTP message${reasonOf(err)}`,
  ]
  const body = `${message}\n`
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${label}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  socket.destroy()
}

// llhttp's reasons are fixed ASCII strings; anything else is left out rather than echoed.
function reasonOf(err: ClientError): string {
  const r = err.reason
  return typeof r === 'string' && /^[A-Za-z0-9 ,.'-]{1,80}$/.test(r) ? ` (${r})` : ''
}
