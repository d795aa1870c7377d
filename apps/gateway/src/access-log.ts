import type { IncomingMessage } from 'node:http'
import { kOriginalTarget } from '@proxykit/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { type AccessFields, accessWriterOf } from './access-line.js'
import type { GatewayMetrics, ListenerName } from './metrics.js'

/**
 * How a request ended, in its access line (`end`): `complete` (the response was sent in full),
 * `client-closed` (the client went away before the response began: status 499, nginx's convention),
 * `incomplete` (the response began but was cut short, by either side: the status is the one sent),
 * `timeout` (the client was too slow sending its request: 408), `malformed` (the HTTP parser refused
 * it: 400 or 431) and `tunnel-closed` (a CONNECT tunnel, logged when it closes).
 */
export type RequestEnd =
  | 'complete'
  | 'client-closed'
  | 'incomplete'
  | 'timeout'
  | 'malformed'
  | 'tunnel-closed'

/** nginx's status for a request the client closed before the answer: never sent, only logged. */
export const CLIENT_CLOSED_STATUS = 499

declare module 'fastify' {
  interface FastifyRequest {
    /** The socket's bytesWritten when the request arrived: bytes for this response are the difference. */
    gatewayBytesAtStart: number
    /** The client's address as of the request's start (a closed socket no longer knows it). */
    gatewayRemote: string
    /** Set once the request's access line is written (exactly one per request). */
    gatewayLogged: boolean
    /** HTTP/2: body bytes written on the request's stream (its socket is the whole session's). */
    gatewayH2Bytes: number
    /** Set by the listener when the request ends by a client error (a timeout answered 408). */
    gatewayEnd: { status: number; end: RequestEnd } | null
  }
}

export interface ObserveOptions {
  listener: ListenerName
  metrics: GatewayMetrics
  accessLog: boolean
  /** The route label for metrics (bounded cardinality: a config route name, never a raw path). */
  routeOf: (request: FastifyRequest) => string
}

/** The request-target as the client sent it (the forward proxy rewrites req.url before routing). */
export function clientTarget(request: FastifyRequest): string {
  const raw = request.raw as IncomingMessage & { [kOriginalTarget]?: string }
  return raw[kOriginalTarget] ?? raw.url ?? ''
}

type Write = (chunk: unknown, encoding?: unknown, cb?: unknown) => boolean

/**
 * On HTTP/2 the request's socket is the session's, shared by every stream in it: the bytes of one response
 * are counted as they are written to its own response instead (HTTP/2 requests only; HTTP/1.1 keeps the
 * socket's counter, which costs nothing per chunk).
 */
function countH2Bytes(request: FastifyRequest, reply: FastifyReply): void {
  const res = reply.raw as unknown as { write: Write; end: (...args: unknown[]) => unknown }
  const size = (chunk: unknown, encoding: unknown) =>
    typeof chunk === 'string'
      ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
      : chunk instanceof Uint8Array
        ? chunk.byteLength
        : 0
  const write = res.write
  const end = res.end
  res.write = function (this: unknown, chunk, encoding, cb) {
    request.gatewayH2Bytes += size(chunk, encoding)
    return write.call(this, chunk, encoding, cb)
  }
  res.end = function (this: unknown, ...args: unknown[]) {
    if (typeof args[0] !== 'function') request.gatewayH2Bytes += size(args[0], args[1])
    return end.apply(this, args)
  }
}

/** What the listener calls for each request (from its own hooks and its one 'close' listener). */
export interface RequestObserver {
  /** From the listener's onRequest hook. */
  started(request: FastifyRequest, reply: FastifyReply): void
  /** From the listener's onResponse hook: the response finished (or failed). */
  finished(request: FastifyRequest, reply: FastifyReply): void
  /** From the response's 'close' (not for CONNECT): a response that never finished is logged here. */
  closed(request: FastifyRequest, reply: FastifyReply): void
}

/**
 * One access-log line and the request metrics per request. The listener (listeners/app.ts) calls the
 * observer from its own onRequest and onResponse hooks and its one shared 'close' listener: each hook
 * and listener Fastify or Node runs per request has a cost of its own, paid once here, not per module.
 * Fastify runs onResponse on the raw response's 'finish' or 'error', so it also covers replies the
 * proxies answered on `reply.raw`.
 */
export function observeRequests(app: FastifyInstance, options: ObserveOptions): RequestObserver {
  const { listener, metrics, accessLog, routeOf } = options
  const log = app.log
  // The gateway's own logger has a writer that builds the line itself (access-line.ts); a logger passed
  // in by an embedder gets the line through pino.
  const writer = accessWriterOf(log)
  // Filled for each line and read synchronously by the writer: no object per request.
  const line: AccessFields = {
    reqId: '',
    method: undefined,
    target: '',
    protocol: '',
    route: '',
    status: 0,
    bytes: 0,
    ms: 0,
    remote: '',
    end: 'complete',
    access: null,
    rule: null,
    user: null,
    cache: null,
    upstream: null,
    attempts: null,
  }
  app.decorateRequest('gatewayBytesAtStart', 0)
  app.decorateRequest('gatewayRemote', '')
  app.decorateRequest('gatewayLogged', false)
  app.decorateRequest('gatewayEnd', null)
  app.decorateRequest('gatewayH2Bytes', 0)
  // CONNECT requests whose socket is still open: a tunnel once the proxy has chosen its upstream.
  const connects = new Set<FastifyRequest>()
  if (listener === 'forward') {
    metrics.sources.tunnels = () => {
      let n = 0
      for (const r of connects) if (r.proxy?.upstream != null) n++
      return n
    }
  }
  return {
    started(request, reply) {
      const raw = request.raw
      const socket = raw.socket
      // The bytes and the client's address are for the access line only: without it, nothing is read
      // (a socket's bytesWritten walks its write queue) or counted per chunk.
      if (accessLog) {
        if (raw.httpVersionMajor === 2) countH2Bytes(request, reply)
        else request.gatewayBytesAtStart = socket?.bytesWritten ?? 0
        request.gatewayRemote = request.ip
      }
      if (raw.method === 'CONNECT' && socket) {
        connects.add(request)
        // A tunnel's response never finishes (the proxy writes "200 Connection Established" on the
        // socket and splices): it is logged when the socket closes. A refused CONNECT finishes and logs
        // normally.
        socket.once('close', () => {
          connects.delete(request)
          if (reply.raw.writableFinished || request.gatewayLogged) return
          if (request.proxy?.upstream != null) {
            metrics.tunnelsTotal.inc()
            record(request, reply, 200, 'tunnel-closed')
          } else record(request, reply, CLIENT_CLOSED_STATUS, 'client-closed')
        })
      }
    },
    finished(request, reply) {
      if (!request.gatewayLogged)
        record(request, reply, reply.raw.statusCode, reply.raw.writableFinished ? 'complete' : 'incomplete')
    },
    // Fastify's onResponse runs only when the response finished (or errored): a client that leaves
    // before that, or a response cut short, is logged here, once, with how it ended.
    closed(request, reply) {
      if (reply.raw.writableFinished || request.gatewayLogged) return
      const ended = request.gatewayEnd
      if (ended !== null) record(request, reply, ended.status, ended.end)
      else if (reply.raw.headersSent) record(request, reply, reply.raw.statusCode, 'incomplete')
      else record(request, reply, CLIENT_CLOSED_STATUS, 'client-closed')
    },
  }

  function record(request: FastifyRequest, reply: FastifyReply, status: number, end: RequestEnd): void {
    request.gatewayLogged = true
    const route = routeOf(request)
    // Fastify's own clock: it records the start whenever an onResponse hook exists (this one), and the
    // end on the raw response's 'finish' (for an open tunnel, now).
    const ms = reply.elapsedTime
    // No string built per request: Node's parser only takes HTTP/1.0 and 1.1 (and node:http2 says 2).
    const raw = request.raw
    const protocol =
      raw.httpVersionMajor === 2 ? 'HTTP/2' : raw.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1'
    metrics.requests.add3(listener, route, status)
    metrics.protocols.add2(listener, protocol)
    metrics.duration.series(listener, route).observe(ms / 1000)
    const ctx = request.proxy
    const access = ctx?.access ?? null
    if (access?.decision === 'deny' && status !== 429)
      metrics.denials.add2(listener, access.rule ?? 'unknown')
    if (status === 429) metrics.rateLimited.add2(listener, route)
    const cache = ctx?.cache ?? null
    const upstream = ctx?.upstream ?? null
    // Reverse only: on the forward listener the upstream is any destination, unbounded as a label.
    if (upstream !== null && listener === 'reverse') metrics.upstreamAttempts.add2(route, upstream.url)
    if (accessLog) {
      const socket = request.raw.socket
      line.reqId = request.id
      line.method = raw.method
      line.target = clientTarget(request)
      line.protocol = protocol
      line.route = route
      line.status = status
      line.bytes =
        protocol === 'HTTP/2'
          ? request.gatewayH2Bytes
          : socket === null
            ? 0
            : socket.bytesWritten - request.gatewayBytesAtStart
      line.ms = Math.round(ms * 100) / 100
      line.remote = request.gatewayRemote
      line.end = end
      line.access = access?.decision ?? null
      line.rule = access?.rule ?? null
      line.user = access?.user ?? null
      line.cache = cache
      line.upstream = upstream?.url ?? null
      line.attempts = upstream?.attempts ?? null
      // Through the listener's logger otherwise, the request id as the line's first field: the same line
      // a per-request child logger wrote, without making one (request.log is lazy: lazy-logger.ts).
      if (writer !== null) writer.write(log, listener, line)
      else log.info({ ...line }, 'access')
    }
  }
}
