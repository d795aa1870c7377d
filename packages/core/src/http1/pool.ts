import type { ConnectionOptions } from 'node:tls'
import { UpstreamBadRequestError, UpstreamClosedError, UpstreamDestroyedError } from '../errors.js'
import { Connection, type ConnectionOwner } from './connection.js'
import { type DispatchHandler, Exchange, type ExchangeOwner } from './exchange.js'
import { type RequestHeaders, requestHead } from './request-head.js'

export interface Http1PoolOptions {
  /** Most connections open at once; further requests wait for one. `null`: no limit. Default `null`. */
  connections?: number | null
  /** How long an idle connection is kept, in ms (shortened to the upstream's `Keep-Alive: timeout` less 1 s). Default 4000. */
  keepAliveTimeout?: number
  /** Connect (and TLS handshake) timeout in ms. Default 10000. */
  connectTimeout?: number
  /** Time from the request to the whole response head, in ms. Default 300000. */
  headersTimeout?: number
  /** Longest gap between pieces of the response body, in ms. Default 300000. */
  bodyTimeout?: number
  /** Largest response head accepted, in bytes. Default 16384 (Node's own limit). */
  maxHeaderSize?: number
  /** TLS options for `https:` origins (`ca`, `rejectUnauthorized`, `servername`, …). */
  tls?: ConnectionOptions
}

/** What `dispatch` takes: undici's dispatch options, as far as an HTTP/1.1 exchange needs them. */
export interface Http1Request {
  method: string
  path: string
  headers?: RequestHeaders
  body?: import('node:stream').Readable | null
  [option: string]: unknown
}

const KEEP_ALIVE_MARGIN = 1_000

/**
 * Keep-alive HTTP/1.1 connections to one origin (`http://host:port` or `https://…`), with undici's
 * `dispatch(options, handler)` interface. Written for the proxies' hot path, where it costs less than
 * undici's Pool (`node bench/forward-proxy.mjs instructions`, results in bench/RESULTS.md) because it
 * does only what a relay needs: one exchange per connection at a time, the body handed out as the
 * socket's own buffers, no request object, no promise, no per-request timers.
 */
export class Http1Pool implements ExchangeOwner, ConnectionOwner {
  readonly origin: string
  readonly hostname: string
  readonly port: number
  readonly authority: string
  readonly tls: ConnectionOptions | null
  readonly connectTimeout: number
  readonly headersTimeout: number
  readonly bodyTimeout: number
  readonly maxHeaderSize: number
  readonly shortestTimeout: number
  private readonly keepAliveTimeout: number
  private readonly limit: number
  private readonly idle: Connection[] = []
  private readonly all = new Set<Connection>()
  private readonly queue: Exchange[] = []
  private closing = false
  private closeWaiters: Array<() => void> = []

  constructor(origin: string | URL, options: Http1PoolOptions = {}) {
    const url = typeof origin === 'string' ? new URL(origin) : origin
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError(`origin must be http: or https:, not ${url.protocol}`)
    this.origin = url.origin
    this.authority = url.host
    this.hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    this.port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
    this.tls = url.protocol === 'https:' ? { ...options.tls } : null
    this.limit = options.connections ?? Number.POSITIVE_INFINITY
    this.keepAliveTimeout = options.keepAliveTimeout ?? 4_000
    this.connectTimeout = options.connectTimeout ?? 10_000
    this.headersTimeout = options.headersTimeout ?? 300_000
    this.bodyTimeout = options.bodyTimeout ?? 300_000
    this.maxHeaderSize = options.maxHeaderSize ?? 16_384
    this.shortestTimeout = Math.min(
      this.keepAliveTimeout,
      this.connectTimeout,
      this.headersTimeout,
      this.bodyTimeout,
    )
  }

  /** Connections open (connecting, busy or idle). */
  get size(): number {
    return this.all.size
  }

  /**
   * Sends one request; the handler hears the response (or why there is none). Always returns true:
   * requests beyond `connections` wait in order for a connection to come free.
   */
  dispatch(options: Http1Request, handler: DispatchHandler): boolean {
    const body = options.body ?? null
    const method = options.method
    const head = requestHead(method, options.path, options.headers, this.authority, body !== null)
    const ex =
      typeof head === 'string'
        ? new Exchange(this, method, '', null, -1, handler)
        : new Exchange(this, method, head.text, body, head.length, handler)
    handler.onRequestStart?.(ex, null)
    if (ex.ended) return true
    if (typeof head === 'string') ex.fail(new UpstreamBadRequestError(head))
    else if (this.closing) ex.fail(new UpstreamClosedError('the pool is closed'))
    else this.assign(ex)
    return true
  }

  private assign(ex: Exchange): void {
    const idle = this.idle
    while (idle.length > 0) {
      const conn = idle.pop()!
      if (conn.usable) {
        conn.send(ex)
        return
      }
    }
    if (this.all.size < this.limit) this.open(ex)
    else this.queue.push(ex)
  }

  /** A new connection, carrying `ex` once it is up. */
  private open(ex: Exchange): void {
    const conn = new Connection(this)
    this.all.add(conn)
    conn.ex = ex
    ex.conn = conn
  }

  resend(ex: Exchange): void {
    // A new connection, not an idle one: those may have been closed by the same idle timeout.
    if (this.all.size < this.limit) this.open(ex)
    else this.queue.unshift(ex)
  }

  dequeue(ex: Exchange): void {
    const i = this.queue.indexOf(ex)
    if (i !== -1) this.queue.splice(i, 1)
  }

  connected(conn: Connection): void {
    const ex = conn.ex
    conn.ex = null
    if (ex !== null) conn.send(ex)
    else this.released(conn, -1)
  }

  released(conn: Connection, hint: number): void {
    if (this.closing) {
      conn.close()
      return
    }
    const next = this.queue.shift()
    if (next !== undefined) {
      conn.send(next)
      return
    }
    // The upstream's `Keep-Alive: timeout` less a margin, so that it does not close the connection just
    // as a request goes out on it; with no time left to spare it is not kept at all.
    const ms = hint >= 0 ? Math.min(this.keepAliveTimeout, hint - KEEP_ALIVE_MARGIN) : this.keepAliveTimeout
    if (ms <= 0) {
      conn.close()
      return
    }
    conn.park(ms)
    this.idle.push(conn)
  }

  removed(conn: Connection): void {
    this.all.delete(conn)
    const i = this.idle.indexOf(conn)
    if (i !== -1) this.idle.splice(i, 1)
    if (this.queue.length > 0 && this.all.size < this.limit) this.open(this.queue.shift()!)
    if (this.closing && this.all.size === 0) {
      const waiters = this.closeWaiters
      this.closeWaiters = []
      for (const w of waiters) w()
    }
  }

  /** Lets the exchanges under way (and queued) finish, closing each connection as it comes free. */
  close(): Promise<void> {
    this.closing = true
    for (const conn of this.idle.splice(0)) conn.close()
    if (this.all.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.closeWaiters.push(resolve))
  }

  /** Ends every exchange and connection now; queued requests fail. */
  destroy(): Promise<void> {
    this.closing = true
    // Not "closed before answering": a request already sent may have been acted on, so it must not
    // look safe to send again.
    const err = new UpstreamDestroyedError('the pool was destroyed')
    for (const ex of this.queue.splice(0)) ex.fail(err)
    for (const conn of this.all) {
      conn.fail(err)
      conn.close()
    }
    this.idle.length = 0
    if (this.all.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.closeWaiters.push(resolve))
  }
}
