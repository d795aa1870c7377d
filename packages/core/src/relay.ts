// Over ~300 lines for a reason: one undici dispatch handler (RelayHandler) whose states (waiting, direct,
// stream, buffer, discard) share the reply and the upstream's response across undici's callbacks.
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { availableParallelism } from 'node:os'
import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { answersThroughFastify, mergeHookHeaders, setResponseOnReply } from './answer.js'
import type { UpstreamResponse } from './context.js'
import { writeInterim } from './interim.js'
import { pump } from './respond.js'
import { preCacheStage } from './response-stages.js'

/**
 * What the relay needs of an undici `Dispatcher` (a Pool, an Agent, a ProxyAgent): core does not depend
 * on undici, the proxies hand theirs in.
 */
export interface RelayDispatcher {
  // `never`: any dispatcher's own option types are accepted (the relay only ever passes a RelayRequest).
  dispatch(options: never, handler: never): boolean
}

type Dispatch = { dispatch(options: RelayRequest, handler: object): boolean }

/** undici's dispatch options, as far as the relay is concerned (everything else is passed through). */
export interface RelayRequest {
  method: string
  path: string
  origin?: string
  headers?: OutgoingHttpHeaders | Record<string, string | string[]>
  body?: Readable | null
  [option: string]: unknown
}

export interface RelayCallbacks {
  /**
   * The upstream's head arrived (a final status, 1xx are skipped): return the headers to pass on, with
   * hop-by-hop headers removed and anything rewritten. Runs before the response filters.
   */
  headers(statusCode: number, headers: IncomingHttpHeaders): OutgoingHttpHeaders
  /**
   * The request failed before any response head arrived, and nothing was written to the client: answer
   * it (a 502, a 504) or try again elsewhere. Not called when the client itself went away.
   */
  failed(err: Error): void
  /** The exchange is over: the body went through (null), or it was cut short or abandoned (an error). */
  done(err: Error | null): void
}

/** undici's dispatch controller (the non-deprecated handler API). */
interface Controller {
  pause(): void
  resume(): void
  abort(reason: Error): void
  readonly aborted: boolean
}

const WAITING = 0
const DIRECT = 1
const STREAM = 2
const DISCARD = 3
const OVER = 4
/** A response without a body sent through Fastify: the upstream's end is awaited, nothing more. */
const DISCARD_QUIETLY = 5
/** A small body with a known length, gathered for `reply.send(buffer)` (Fastify's path). */
const BUFFER = 6

/**
 * On Fastify's path, a body whose `Content-Length` is at most this many bytes is gathered and handed to
 * `reply.send` as one Buffer instead of a stream: Fastify then writes it with one `end()` and no pipe, and
 * an `onSend` hook takes the cheap road for a buffered payload (@fastify/compress compresses one under its
 * `syncThreshold` in one synchronous call, with no zlib stream and a `Content-Length`; one under its
 * `threshold` is left alone without a stream built around it). Above @fastify/compress's `syncThreshold` a
 * Buffer is the dear road instead: compress wraps it in `Readable.from` and streams it through zlib anyway,
 * which costs more than piping the upstream's own stream (issue 21 (c), `bench/RESULTS.md`). So the limit
 * is that threshold's default, which compress derives from the host's cores the same way (64 KiB on one
 * core, divided by 8 for each further one up to four, at least 4 KiB). A bounded amount, so memory stays
 * bounded; a longer body, or one without a length, streams with backpressure.
 */
export const BUFFERED_BODY_LIMIT = syncThresholdOf(availableParallelism())

/** @fastify/compress's default `syncThreshold` for a host with `cores` usable cores (its `computeSyncThreshold`). */
export function syncThresholdOf(cores: number): number {
  const usable = Math.min(Math.max(cores, 1), 4)
  return Math.min(Math.max(65536 >> (3 * (usable - 1)), 4096), 65536)
}

function clientGone(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })
}

/**
 * The response as the filters see it. Its `body` is made only when a filter asks for it (the cache
 * teeing a response into its store): while no filter touches it, the upstream's chunks are written
 * straight to the client's socket, with no stream in between.
 */
class RelayedResponse implements UpstreamResponse {
  statusCode: number
  headers: OutgoingHttpHeaders
  replaced = false
  private replacement: Readable | null = null
  constructor(
    statusCode: number,
    headers: OutgoingHttpHeaders,
    private readonly handler: RelayHandler,
  ) {
    this.statusCode = statusCode
    this.headers = headers
  }
  get body(): Readable | null {
    if (this.replaced) return this.replacement
    return this.handler.source ?? this.handler.makeSource()
  }
  set body(value: Readable | null) {
    this.replaced = true
    this.replacement = value
  }
}

/**
 * One upstream exchange as an undici dispatch handler, answered on one of the route's two paths
 * (docs/architecture.md, "Two answer paths"): on `reply.raw` after `reply.hijack()` when the route has no
 * `onSend` hooks of the app's, else through `reply.send(stream)` so that they run. The reply is not
 * hijacked before the upstream's head is there, so a failure before it still goes through Fastify's
 * error handler. Measured against `Dispatcher.request` + `sendUpstreamResponse` (docs/architecture.md):
 * no promise, no body stream, no pipe and its listeners per response on the fast path, so about a fifth
 * less CPU per proxied request.
 */
class RelayHandler {
  private state = WAITING
  private controller: Controller | null = null
  private readonly res: ServerResponse
  /** The body stream, once a filter (or Fastify's path) asked for one. */
  source: Readable | null = null
  private finished = false
  private settled = false
  private readonly viaFastify: boolean
  /** Why the upstream's body stopped short, for `done` on Fastify's path. */
  private bodyError: Error | null = null
  /** The body's chunks in the BUFFER state. */
  private chunks: Buffer[] | null = null

  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly callbacks: RelayCallbacks,
  ) {
    this.res = reply.raw
    // A caller that hijacked the reply itself keeps the raw path.
    this.viaFastify = !reply.sent && answersThroughFastify(reply)
    this.res.on('close', this.onClose)
  }

  // The client went away before its response was complete: abort the upstream request.
  private readonly onClose = (): void => {
    if (this.res.writableFinished || this.state === OVER) return
    this.controller?.abort(clientGone())
  }

  private readonly onDrain = (): void => {
    this.controller?.resume()
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller
    if (this.res.destroyed) controller.abort(clientGone())
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200 || this.state !== WAITING) return
    this.controller = controller
    const res = this.res
    let response: RelayedResponse
    try {
      response = new RelayedResponse(statusCode, this.callbacks.headers(statusCode, headers), this)
      preCacheStage(this.request, response)
      if (this.viaFastify) setResponseOnReply(this.reply, response.statusCode, response.headers)
      else {
        this.reply.hijack()
        mergeHookHeaders(this.reply, response.headers)
        res.writeHead(response.statusCode, response.headers)
      }
    } catch (err) {
      // A filter failing or a head Node refuses to write: nothing reached the client yet.
      this.state = OVER
      controller.abort(err as Error)
      this.res.removeListener('close', this.onClose)
      this.callbacks.failed(err as Error)
      return
    }
    if (this.viaFastify) {
      this.sendThroughFastify(response)
      return
    }
    if (!response.replaced && this.source === null) {
      this.state = DIRECT
      return
    }
    // A filter took the body (or replaced it): from here on it is a stream, piped like any other.
    this.state = this.source !== null && !this.source.destroyed ? STREAM : DISCARD
    res.removeListener('close', this.onClose)
    const body = response.body
    if (body === null || this.request.raw.method === 'HEAD') {
      body?.resume()
      res.end()
      if (this.state === STREAM) this.source?.resume()
      this.settle(null)
      return
    }
    pump(body, res, (err) => this.settle(err))
  }

  /** 103 Early Hints and other interim answers go on to the client, never through the filters (interim.ts). */
  onResponseInformational(
    _controller: Controller,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage: string,
  ): void {
    if (this.state === WAITING) writeInterim(this.request, this.res, statusCode, headers, statusMessage)
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.state === DIRECT) {
      if (!this.res.write(chunk)) {
        controller.pause()
        this.res.once('drain', this.onDrain)
      }
    } else if (this.state === STREAM) {
      if (!this.source!.push(chunk)) controller.pause()
    } else if (this.state === BUFFER) {
      this.chunks!.push(chunk)
    } else if (this.state === DISCARD) {
      // Nobody wants this body (a filter replaced it): stop the upstream from sending the rest.
      this.state = OVER
      controller.abort(clientGone())
    }
  }

  onResponseEnd(_controller: Controller, trailers?: IncomingHttpHeaders): void {
    this.finished = true
    // Trailers (an HTTP/2 upstream's; gRPC's status travels in them) go out after the body, on either
    // path: an HTTP/2 or chunked HTTP/1.1 response sends them when it ends, any other drops them.
    if (trailers !== undefined && this.state !== DISCARD && this.state !== OVER) {
      for (const _ in trailers) {
        this.res.addTrailers(trailers as OutgoingHttpHeaders as Record<string, string>)
        break
      }
    }
    if (this.state === DIRECT) {
      this.state = OVER
      this.res.removeListener('close', this.onClose)
      this.res.end()
      this.settle(null)
    } else if (this.state === STREAM) this.source!.push(null)
    else if (this.state === BUFFER) {
      this.state = OVER
      const chunks = this.chunks!
      this.chunks = null
      this.res.removeListener('close', this.onClose)
      this.settleOnClose()
      this.reply.send(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))
    }
  }

  /** Fastify's path: the exchange is over when the client's response is, finished or not. */
  private settleOnClose(): void {
    this.res.once('close', () =>
      this.settle(this.res.writableFinished ? null : (this.bodyError ?? clientGone())),
    )
  }

  /**
   * Fastify's path: the body goes to `reply.send` as a stream (or nothing, for a response without one),
   * so the route's `onSend` hooks see it after the response filters did: the cache stores what the
   * upstream sent, @fastify/compress encodes what the client gets.
   */
  private sendThroughFastify(response: RelayedResponse): void {
    const status = response.statusCode
    const bodiless = this.request.raw.method === 'HEAD' || status === 204 || status === 304
    let body: Readable | null
    if (response.replaced) {
      body = response.body
      this.state = this.source !== null && !this.source.destroyed ? STREAM : DISCARD
    } else if (bodiless) {
      body = null
      this.state = this.source !== null && !this.source.destroyed ? STREAM : DISCARD_QUIETLY
    } else if (this.source === null && bufferable(response.headers)) {
      // Nothing sent yet: the client leaving still aborts the upstream (onClose stays).
      this.state = BUFFER
      this.chunks = []
      return
    } else {
      body = response.body
      this.state = STREAM
    }
    this.res.removeListener('close', this.onClose)
    this.settleOnClose()
    if (body === null || this.request.raw.method === 'HEAD') {
      body?.resume()
      if (this.state === STREAM) this.source?.resume()
      this.reply.send()
    } else this.reply.send(body)
  }

  onResponseError(_controller: Controller, err: Error): void {
    const state = this.state
    this.state = OVER
    this.res.removeListener('close', this.onClose)
    if (state === WAITING) {
      if (this.res.destroyed) this.settle(err)
      else this.callbacks.failed(err)
    } else if (state === DIRECT) {
      // The head is out: the only honest thing left is to cut the response short.
      this.res.destroy()
      this.settle(err)
    } else if (state === STREAM) {
      this.bodyError = err
      this.source!.destroy(err)
    } else if (state === BUFFER) {
      // The status is already on the reply: as on the stream path, the client's response is cut short
      // rather than completed (or turned into an error answer) with a part of the body.
      this.chunks = null
      this.res.destroy()
      this.settle(err)
    } else if (this.viaFastify) {
      this.bodyError = err
      if (!this.res.writableFinished) this.res.destroy()
    }
  }

  /** The body stream a filter asked for, fed by this handler with backpressure. */
  makeSource(): Readable {
    this.source = new Readable({
      read: () => this.controller?.resume(),
      destroy: (err, cb) => {
        // Destroyed before the upstream finished: by a filter (discard the rest) or by the pipe (abort).
        if (!this.finished && this.state === STREAM) {
          this.state = OVER
          this.controller?.abort(err ?? clientGone())
        }
        cb(err)
      },
    })
    return this.source
  }

  private settle(err: Error | null): void {
    if (this.settled) return
    this.settled = true
    this.callbacks.done(err)
  }
}

/** Whether the response's body has a `Content-Length` of at most BUFFERED_BODY_LIMIT (and above 0). */
function bufferable(headers: OutgoingHttpHeaders): boolean {
  const length = headers['content-length']
  if (length === undefined) return false
  const n = typeof length === 'number' ? length : Number(length)
  return n > 0 && n <= BUFFERED_BODY_LIMIT
}

/**
 * Sends one request through `dispatcher` and answers `reply` (hijacked by the caller) with the upstream's
 * response, written straight to `reply.raw` with backpressure both ways. The request's response filters
 * (the cache) run on the head before it is written, exactly as with `sendUpstreamResponse`. The client
 * leaving aborts the upstream request; the upstream failing midway cuts the client's response short.
 */
export function relay(
  dispatcher: RelayDispatcher,
  options: RelayRequest,
  request: FastifyRequest,
  reply: FastifyReply,
  callbacks: RelayCallbacks,
): void {
  ;(dispatcher as unknown as Dispatch).dispatch(options, new RelayHandler(request, reply, callbacks))
}
