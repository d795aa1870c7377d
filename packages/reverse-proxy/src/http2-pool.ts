import type { IncomingHttpHeaders } from 'node:http'
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2'
import type { Readable } from 'node:stream'
import type { ConnectionOptions } from 'node:tls'
import {
  type DispatchHandler,
  type Http1Request,
  UpstreamBodyTimeoutError,
  UpstreamClosedError,
  UpstreamConnectTimeoutError,
  UpstreamDestroyedError,
  UpstreamHeadersTimeoutError,
} from '@proxykit/core'

/** What an upstream's pool is to the proxy and the health checks: core's Http1Pool or an Http2Pool. */
export interface UpstreamPool {
  dispatch(options: Http1Request, handler: DispatchHandler): boolean
  close(): Promise<void>
  destroy(): Promise<void>
}

export interface Http2PoolOptions {
  /** TLS options (`h2`, negotiated by ALPN); null: cleartext with prior knowledge (`h2c`). */
  tls: ConnectionOptions | null
  connectTimeout: number
  headersTimeout: number
  bodyTimeout: number
  /** An idle session (no stream open) is closed after this many ms. Default 60000. */
  idleTimeout?: number
}

// Headers HTTP/2 forbids (RFC 9113 §8.2.2): Node refuses to send a request carrying one. Hop-by-hop
// stripping removes them already; a Host becomes :authority.
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
  'http2-settings',
])

function plainHeaders(headers: http2.IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const name in headers) if (name.charCodeAt(0) !== 58 /* : */) out[name] = headers[name] as never
  return out
}

/**
 * One exchange on an HTTP/2 stream, and the controller its handler holds (undici's controller shape,
 * as core's HTTP/1.1 Exchange): pause and resume the response body, or abort (the stream is cancelled).
 */
class Http2Exchange {
  ended = false
  aborted = false
  paused = false
  reason: Error | null = null
  stream: ClientHttp2Stream | null = null
  started = false
  trailers: IncomingHttpHeaders = {}
  timer: NodeJS.Timeout | null = null

  constructor(readonly handler: DispatchHandler) {}

  pause(): void {
    if (this.ended || this.paused) return
    this.paused = true
    this.stream?.pause()
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.stream?.resume()
  }

  abort(reason: Error): void {
    if (this.ended) return
    this.aborted = true
    this.reason = reason
    this.fail(reason)
  }

  fail(err: Error): void {
    if (this.ended) return
    this.ended = true
    this.clearTimer()
    const stream = this.stream
    if (stream !== null && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL)
    this.handler.onResponseError?.(this as never, err)
  }

  end(): void {
    if (this.ended) return
    this.ended = true
    this.clearTimer()
    this.handler.onResponseEnd?.(this as never, this.trailers)
  }

  clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}

/**
 * HTTP/2 to one origin: `https://` with ALPN `h2` only (an upstream that cannot speak it fails the
 * handshake rather than silently answering HTTP/1.1), or `http://` with prior knowledge (h2c). One
 * session carries every request as its own stream, so a connection is reused by all of them at once;
 * a session that fails, closes or receives GOAWAY is replaced for the requests after it. Speaks undici's
 * `dispatch(options, handler)` like core's Http1Pool, so the relay, retries and health checks use either.
 * Trailers (gRPC's `grpc-status`) reach the handler's `onResponseEnd`.
 */
export class Http2Pool implements UpstreamPool {
  readonly origin: string
  readonly authority: string
  readonly secure: boolean
  private readonly options: Http2PoolOptions
  private session: ClientHttp2Session | null = null
  private readonly sessions = new Set<ClientHttp2Session>()
  private closing = false

  constructor(url: URL, options: Http2PoolOptions) {
    this.origin = url.origin
    this.authority = url.host
    this.secure = url.protocol === 'https:'
    this.options = options
  }

  private connect(): ClientHttp2Session {
    const current = this.session
    if (current !== null && !current.closed && !current.destroyed) return current
    const o = this.options
    const session = http2.connect(this.origin, {
      ...(o.tls ?? {}),
      ...(this.secure ? { ALPNProtocols: ['h2'] } : {}),
    })
    this.session = session
    this.sessions.add(session)
    const forget = () => {
      if (this.session === session) this.session = null
    }
    const timer = setTimeout(() => {
      session.destroy(new UpstreamConnectTimeoutError(`${this.origin} within ${o.connectTimeout} ms`))
    }, o.connectTimeout)
    timer.unref()
    session.once('connect', () => clearTimeout(timer))
    // The streams in flight hear of a session error on their own; the session is not reused.
    session.on('error', forget)
    session.once('goaway', forget)
    session.once('close', () => {
      clearTimeout(timer)
      forget()
      this.sessions.delete(session)
    })
    session.setTimeout(o.idleTimeout ?? 60_000, () => {
      forget()
      session.close()
    })
    return session
  }

  dispatch(options: Http1Request, handler: DispatchHandler): boolean {
    const ex = new Http2Exchange(handler)
    handler.onRequestStart?.(ex as never, undefined)
    if (ex.ended) return true
    if (this.closing) {
      ex.fail(new UpstreamDestroyedError('the pool is closed'))
      return true
    }
    const headers: http2.OutgoingHttpHeaders = {
      ':method': options.method,
      ':path': options.path,
      ':scheme': this.secure ? 'https' : 'http',
      ':authority': this.authority,
    }
    const given = options.headers as Record<string, string | string[] | number | undefined> | undefined
    if (given !== undefined)
      for (const name in given) {
        const value = given[name]
        if (value === undefined) continue
        const lower = name.toLowerCase()
        if (lower === 'host') headers[':authority'] = String(value)
        else if (!CONNECTION_SPECIFIC.has(lower)) headers[lower] = value
      }
    // Trailers are passed on (gRPC's status travels in them): say so, as RFC 9113 §8.2.2 allows.
    headers.te = 'trailers'
    const body = (options.body ?? null) as Readable | null
    let stream: ClientHttp2Stream
    try {
      stream = this.connect().request(headers, { endStream: body === null })
    } catch (err) {
      ex.fail(new UpstreamClosedError((err as Error).message, { cause: err }))
      return true
    }
    ex.stream = stream
    if (ex.paused) stream.pause()
    ex.timer = setTimeout(
      () =>
        ex.abort(new UpstreamHeadersTimeoutError(`${this.origin} within ${this.options.headersTimeout} ms`)),
      this.options.headersTimeout,
    )
    ex.timer.unref()
    stream.on('headers', (h: http2.IncomingHttpHeaders) => {
      const status = Number(h[':status'])
      if (status >= 100 && status < 200 && status !== 101)
        handler.onResponseInformational?.(ex as never, status, plainHeaders(h), '')
    })
    stream.once('response', (h: http2.IncomingHttpHeaders, flags: number) => {
      if (ex.ended) return
      ex.started = true
      ex.clearTimer()
      stream.setTimeout(this.options.bodyTimeout, () =>
        ex.abort(new UpstreamBodyTimeoutError(`${this.origin}: silent for ${this.options.bodyTimeout} ms`)),
      )
      const headers = plainHeaders(h)
      if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) splitTrailersOnly(headers, ex)
      handler.onResponseStart?.(ex as never, Number(h[':status']), headers, '')
    })
    stream.on('data', (chunk: Buffer) => {
      if (!ex.ended) handler.onResponseData?.(ex as never, chunk)
    })
    stream.once('trailers', (t: http2.IncomingHttpHeaders) => {
      ex.trailers = plainHeaders(t)
    })
    stream.once('end', () => {
      if (ex.started) ex.end()
    })
    stream.on('error', (err: NodeJS.ErrnoException) => ex.fail(upstreamError(err, ex.started)))
    stream.once('close', () => {
      if (ex.ended) return
      // Closed without an error event: reset by the peer (RST_STREAM), or the session went away.
      ex.fail(new UpstreamClosedError(`stream closed (code ${stream.rstCode})`))
    })
    if (body !== null) {
      body.on('error', () => {
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL)
      })
      body.pipe(stream)
    }
    return true
  }

  async close(): Promise<void> {
    this.closing = true
    await Promise.all(
      [...this.sessions].map(
        (s) => new Promise<void>((resolve) => (s.closed ? resolve() : s.close(() => resolve()))),
      ),
    )
  }

  async destroy(): Promise<void> {
    this.closing = true
    for (const s of this.sessions) s.destroy()
    this.sessions.clear()
  }
}

// A gRPC "Trailers-Only" response (an error with no message) is one HEADERS frame that ends the stream.
// Relayed, the head and the end become two frames, and a client then finds no status in trailers: the
// status fields are moved to the trailers, which is the other form gRPC allows for the same answer.
const GRPC_STATUS_FIELDS = ['grpc-status', 'grpc-message', 'grpc-status-details-bin']

function splitTrailersOnly(headers: IncomingHttpHeaders, ex: Http2Exchange): void {
  if (headers['grpc-status'] === undefined || !String(headers['content-type']).startsWith('application/grpc'))
    return
  for (const name of GRPC_STATUS_FIELDS) {
    const value = headers[name]
    if (value === undefined) continue
    ex.trailers[name] = value as never
    delete headers[name]
  }
}

/** A connection error keeps its code (refused, unreachable: the proxy's retry rules know them). */
function upstreamError(err: NodeJS.ErrnoException, started: boolean): Error {
  const code = err.code ?? ''
  if (/^E[A-Z]+$/.test(code) || code.startsWith('PK_')) return err
  return started ? err : new UpstreamClosedError(err.message, { cause: err })
}
