import { EventEmitter } from 'node:events'
import {
  BadGatewayError,
  BadRequestError,
  ForbiddenError,
  GatewayTimeoutError,
  kOriginalTarget,
  LoopDetectedError,
  type ProxyError,
  type ProxyTarget,
  sendError,
  sendUpstreamResponse,
  viaHasLoop,
  writeRawError,
} from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Dispatcher } from 'undici'
import { addressDenied, resolveDestination } from './guard.js'
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js'
import type { ResolvedOptions } from './options.js'
import type { OriginPools } from './pools.js'

/** Maps a transport failure to the answer the client gets: 504 for timeouts, 502 for the rest. */
export function upstreamError(err: unknown, what: string): ProxyError {
  const code = (err as { code?: string }).code ?? ''
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT')
    return new GatewayTimeoutError(`${what} did not answer in time`, { cause: err })
  // System errors say it best by code (ECONNREFUSED); undici's own by message (a parent's 407, TLS).
  const detail = code === '' || code.startsWith('UND_ERR') ? ((err as Error).message ?? code) : code
  return new BadGatewayError(`${what}: ${detail}`, { cause: err })
}

/**
 * RFC 9110 §7.6.2: a TRACE or OPTIONS with `Max-Forwards: 0` is answered here; a larger value is
 * decremented. Returns the value to send on, `null` when absent, or an error for an invalid one.
 */
function maxForwards(req: FastifyRequest['raw']): number | null | 'invalid' {
  const value = req.headers['max-forwards'] as string | undefined
  if (value === undefined || (req.method !== 'TRACE' && req.method !== 'OPTIONS')) return null
  if (!/^[0-9]{1,10}$/.test(value)) return 'invalid'
  return Number(value)
}

// Never echoed back by TRACE: credentials and cookies (cross-site tracing).
const TRACE_HIDDEN = new Set(['authorization', 'proxy-authorization', 'cookie'])

function answerHere(request: FastifyRequest, reply: FastifyReply, methods: string): void {
  const raw = request.raw
  if (raw.method === 'OPTIONS') {
    reply.code(200).header('allow', methods).header('content-length', '0').send()
    return
  }
  let message = `${raw.method} ${(raw as { [kOriginalTarget]?: string })[kOriginalTarget]} HTTP/${raw.httpVersion}\r\n`
  for (let i = 0; i < raw.rawHeaders.length; i += 2) {
    if (!TRACE_HIDDEN.has(raw.rawHeaders[i]!.toLowerCase()))
      message += `${raw.rawHeaders[i]}: ${raw.rawHeaders[i + 1]}\r\n`
  }
  reply.code(200).type('message/http').send(`${message}\r\n`)
}

function hasBody(req: FastifyRequest['raw']): boolean {
  const te = req.headers['transfer-encoding']
  if (te !== undefined) return true
  const cl = req.headers['content-length']
  return cl !== undefined && cl !== '0'
}

/**
 * The abort signal handed to undici: it accepts any emitter with `aborted` and an `'abort'` event, and
 * this costs less per request than an AbortController (no DOMException, no EventTarget).
 */
class ClientGone extends EventEmitter {
  aborted = false
  abort(): void {
    this.aborted = true
    this.emit('abort')
  }
}

/** What the absolute-form route's handler needs; built once by the plugin. */
export interface ForwardContext {
  opts: ResolvedOptions
  pools: OriginPools
  /** The methods routed, for `Allow` when OPTIONS is answered here. */
  methods: string
}

/**
 * The absolute-form handler: checks loops and Max-Forwards, resolves and checks the destination, sends
 * the request on with its body streamed, and answers on `reply.raw` through core's `sendUpstreamResponse`
 * (which runs the response filters: the cache). Redirects are passed back, never followed.
 */
export async function forwardRequest(this: ForwardContext, request: FastifyRequest, reply: FastifyReply) {
  const ctx = request.proxy
  // An origin-form request naming the internal path itself is not ours to answer.
  if (ctx.form !== 'absolute' || ctx.target === null) return reply.callNotFound()
  const { opts, pools } = this
  const target: ProxyTarget = ctx.target
  const raw = request.raw
  ctx.direction = 'forward'
  if (viaHasLoop(raw.headers.via, opts.pseudonym))
    return sendError(reply, new LoopDetectedError(`Via already names ${opts.pseudonym}`))
  const hops = maxForwards(raw)
  if (hops === 'invalid') return sendError(reply, new BadRequestError('invalid Max-Forwards'))
  if (hops === 0) return answerHere(request, reply, this.methods)

  let dispatcher: Dispatcher
  if (pools.parent !== null) {
    // The parent resolves names (and guards them); literal addresses are still checked here.
    if (target.family !== 0) {
      const reason = addressDenied(target.hostname, opts)
      if (reason !== null) return sendError(reply, new ForbiddenError(`destination refused: ${reason}`))
    }
    dispatcher = pools.parent
  } else {
    const dest = await resolveDestination(target, request, opts)
    if (dest instanceof Error) return sendError(reply, dest)
    dispatcher = pools.get(target.scheme, dest, target.port, target.family === 0 ? target.hostname : null)
  }

  const headers = upstreamRequestHeaders(raw, target.authority, opts)
  if (hops !== null) headers['max-forwards'] = String(hops - 1)
  const origin = `${target.scheme}://${target.authority}`
  ctx.upstream = { url: origin, attempts: 1 }

  reply.hijack()
  const res = reply.raw
  const abort = new ClientGone()
  // The client went away before the response was complete: abort the upstream request (its socket
  // is released, not leaked). Once the body is piping, sendUpstreamResponse does the same.
  const onClose = () => {
    if (!res.writableFinished) abort.abort()
  }
  res.once('close', onClose)
  let upstream: Dispatcher.ResponseData
  try {
    upstream = await dispatcher.request({
      origin,
      path: target.path,
      method: raw.method as Dispatcher.HttpMethod,
      headers,
      body: hasBody(raw) ? raw : null,
      signal: abort,
    })
  } catch (err) {
    res.off('close', onClose)
    if (abort.aborted) return
    writeRawError(res, upstreamError(err, `${target.authority} failed`))
    return
  }
  res.off('close', onClose)
  if (res.destroyed) {
    upstream.body.destroy()
    return
  }
  sendUpstreamResponse(request, reply, {
    statusCode: upstream.statusCode,
    headers: clientResponseHeaders(upstream.headers, opts),
    body: upstream.body,
  })
}
