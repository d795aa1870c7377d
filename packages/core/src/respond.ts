import { type OutgoingHttpHeaders, type ServerResponse, STATUS_CODES } from 'node:http'
import type { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { answersThroughFastify, mergeHookHeaders, setResponseOnReply } from './answer.js'
import type { UpstreamResponse } from './context.js'
import type { ProxyError } from './errors.js'
import { preCacheStage } from './response-stages.js'

const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * Answers with a coded error. Before the head is out and while the reply is not hijacked, it goes to
 * `reply.send(err)`: through the route's encapsulated error handler, so Fastify's default JSON body
 * (`statusCode`, `code`, `error`, `message`) or the app's `setErrorHandler` answers it, and `onSend`
 * hooks run. The headers a status needs (`Retry-After`, `Proxy-Authenticate`, `WWW-Authenticate`) are
 * set on the reply first, where a custom handler keeps them (Fastify clears only the content type and
 * length before calling it). On a hijacked reply (a tunnel, an upgrade after the upstream answered)
 * the same JSON is written on `reply.raw`. Once the head is out, the only honest thing left is to cut
 * the response short.
 */
export function sendError(reply: FastifyReply, err: ProxyError, headers: Record<string, string> = {}): void {
  const res = reply.raw
  if (res.headersSent) {
    res.destroy(err)
    return
  }
  const request = reply.request
  let extra: OutgoingHttpHeaders = headers
  // A proxy's own error (502 when the upstream is unreachable, 504 on a timeout) passes the response
  // filters, as an upstream answer would: the cache may answer stale-if-error instead, and adds
  // Cache-Status.
  const filters = request?.proxy?.responseFilters
  if (filters !== undefined && filters.length > 0) {
    const own: OutgoingHttpHeaders = {}
    for (const name in headers) own[name.toLowerCase()] = headers[name]
    const response: UpstreamResponse = { statusCode: err.statusCode, headers: own, body: null }
    preCacheStage(request, response)
    if (response.statusCode !== err.statusCode || response.body !== null || response.headers !== own) {
      writeResponse(request, reply, response)
      return
    }
    extra = own
  }
  // `reply.sent` is true once the reply is hijacked: then only the raw response is ours to write.
  if (reply.sent) {
    writeRawError(res, err, extra)
    return
  }
  for (const name in extra) {
    const v = extra[name]
    if (v !== undefined) reply.header(name, v)
  }
  reply.send(err)
}

/**
 * Fastify's default error body for `err`: what a raw error answer writes, so that a client sees one
 * shape whichever path answered it.
 */
export function errorBody(err: ProxyError): string {
  return JSON.stringify({
    statusCode: err.statusCode,
    code: err.code,
    error: STATUS_CODES[err.statusCode] ?? 'Error',
    message: err.message,
  })
}

/**
 * Writes a coded error straight on a raw response, where no Fastify reply can answer it any more (a
 * hijacked reply, a tunnel's socket): Fastify's default JSON error body, `application/json`.
 */
export function writeRawError(res: ServerResponse, err: ProxyError, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.destroy(err)
    return
  }
  const body = errorBody(err)
  res.writeHead(err.statusCode, {
    ...headers,
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

/**
 * The proxies' shared response path for a response that is already a stream (or none): runs the request's
 * response filters (the cache), then answers on the route's path (see `writeResponse`). If the client
 * goes away the body is destroyed, which aborts the upstream request; if the body fails midway the
 * client's response is cut short (never completed with a wrong length). `onDone` is called once with the
 * error, if any.
 */
export function sendUpstreamResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  response: UpstreamResponse,
  onDone?: (err: Error | null) => void,
): void {
  preCacheStage(request, response)
  writeResponse(request, reply, response, onDone)
}

/**
 * Answers with `response` on the route's path (no filters run): through `reply.send` when the route has
 * `onSend` hooks of the app's, else on `reply.raw` (hijacking the reply if it is not yet), the hooks'
 * headers merged in either way.
 */
function writeResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  response: UpstreamResponse,
  onDone?: (err: Error | null) => void,
): void {
  const res = reply.raw
  const body = response.body
  const head = request.raw.method === 'HEAD'
  if (!reply.sent && answersThroughFastify(reply)) {
    setResponseOnReply(reply, response.statusCode, response.headers)
    if (onDone !== undefined)
      res.once('close', () =>
        onDone(
          res.writableFinished
            ? null
            : Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }),
        ),
      )
    if (body === null || head) {
      body?.resume()
      reply.send()
    } else reply.send(body)
    return
  }
  if (!reply.sent) reply.hijack()
  mergeHookHeaders(reply, response.headers)
  res.writeHead(response.statusCode, response.headers)
  if (body === null || head) {
    body?.resume()
    res.end()
    onDone?.(null)
    return
  }
  pump(body, res, onDone)
}

/**
 * `body.pipe(res)` with `pipeline`'s error semantics (either side failing destroys both; the callback
 * once), without `pipeline`'s per-call AbortController: its abort() on every completion builds a
 * DOMException, a cost every proxied request would pay (`node bench/reverse-proxy.mjs`).
 */
export function pump(body: Readable, res: ServerResponse, onDone?: (err: Error | null) => void): void {
  let settled = false
  const settle = (err: Error | null) => {
    if (settled) return
    settled = true
    res.removeListener('close', onClose)
    if (err !== null) {
      // The listeners stay: destroying an undici body makes it emit its own AbortError.
      body.destroy()
      res.destroy()
    } else {
      body.removeListener('error', onError)
      res.removeListener('error', onError)
    }
    onDone?.(err)
  }
  const onError = (err: Error) => settle(err)
  // A response emits 'close' once it is done, finished or not; unfinished means the client went away.
  const onClose = () =>
    settle(
      res.writableFinished
        ? null
        : Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }),
    )
  body.on('error', onError)
  res.on('error', onError)
  res.on('close', onClose)
  body.pipe(res)
}
