import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type { Connection } from './connection.js'

/**
 * The handler an exchange reports to: undici's dispatch handler API (the non-deprecated one), so core's
 * `relay` and anything written against undici work with either.
 */
export interface DispatchHandler {
  onRequestStart?(controller: Exchange, context: unknown): void
  onResponseStart?(
    controller: Exchange,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage: string,
  ): void
  /**
   * An interim (1xx) response arrived before the final one (103 Early Hints, 102 …; never 101): not part
   * of undici's handler API, so handlers written for undici simply never hear of them.
   */
  onResponseInformational?(
    controller: Exchange,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage: string,
  ): void
  onResponseData?(controller: Exchange, chunk: Buffer): void
  onResponseEnd?(controller: Exchange, trailers: IncomingHttpHeaders): void
  onResponseError?(controller: Exchange, err: Error): void
}

/** What an exchange needs of its pool while it waits for a connection. */
export interface ExchangeOwner {
  dequeue(exchange: Exchange): void
}

/** RFC 9110 §9.2.2: methods whose repetition has the effect of one request (safe to send again). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'PUT',
  'DELETE',
])

const NO_TRAILERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders

/**
 * One request and its response, and the controller its handler holds: pause and resume the response
 * body (backpressure), or abort the exchange (its connection is closed, never reused). The handler hears
 * exactly one of `onResponseEnd` and `onResponseError`, once.
 */
export class Exchange {
  /** Set when the handler has had its last word. */
  ended = false
  aborted = false
  paused = false
  reason: Error | null = null
  /** Sent a second time after its kept-alive connection closed under it (at most once). */
  resent = false
  /** The connection carrying it, once it has one. */
  conn: Connection | null = null

  constructor(
    readonly owner: ExchangeOwner,
    readonly method: string,
    /** The serialised head. */
    readonly head: string,
    readonly body: Readable | null,
    /** The body's declared length, or -1 for chunked. */
    readonly bodyLength: number,
    readonly handler: DispatchHandler,
  ) {}

  pause(): void {
    if (this.ended || this.paused) return
    this.paused = true
    this.conn?.pause()
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.conn?.resume()
  }

  abort(reason: Error): void {
    if (this.ended) return
    this.aborted = true
    this.reason = reason
    const conn = this.conn
    this.conn = null
    if (conn !== null) conn.abandon(this)
    else this.owner.dequeue(this)
    this.fail(reason)
  }

  /** The exchange failed: the handler hears why, once. */
  fail(err: Error): void {
    if (this.ended) return
    this.ended = true
    this.conn = null
    this.handler.onResponseError?.(this, err)
  }

  /** The response was read to its end. */
  end(): void {
    if (this.ended) return
    this.ended = true
    this.conn = null
    this.handler.onResponseEnd?.(this, NO_TRAILERS)
  }
}
