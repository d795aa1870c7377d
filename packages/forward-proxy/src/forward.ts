import {
  answerAsFinalRecipient,
  BadRequestError,
  ForbiddenError,
  gatewayError,
  LoopDetectedError,
  maxForwards,
  type ProxyError,
  type ProxyTarget,
  type RelayDispatcher,
  relay,
  sendError,
  upstreamFailure,
  viaHasLoop,
} from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { checkDestination, checkThroughParent, recordRefusal, resolveDestination } from './guard.js'
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js'
import type { ResolvedOptions } from './options.js'
import type { OriginPools } from './pools.js'

/**
 * The answer for a transport failure towards `authority` (core's `upstreamFailure` says which: 504 for
 * its timeouts, 502 for the rest): a system error named by its code (ECONNREFUSED), anything else by its
 * message (a bad response, a parent's 407, TLS). GET and CONNECT alike.
 */
export function upstreamError(err: unknown, authority: string): ProxyError {
  const failure = upstreamFailure(err)
  if (failure.statusCode === 504) return gatewayError(failure, `${authority} did not answer in time`)
  const code = (err as { code?: string }).code ?? ''
  const detail =
    code === '' || code.startsWith('UND_ERR') || code.startsWith('PK_')
      ? ((err as Error).message ?? code)
      : code
  return gatewayError(failure, `${authority} failed: ${detail}`)
}

function hasBody(req: FastifyRequest['raw']): boolean {
  const te = req.headers['transfer-encoding']
  if (te !== undefined) return true
  const cl = req.headers['content-length']
  return cl !== undefined && cl !== '0'
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
 * the request on with its body streamed, and answers on `reply.raw` through core's `relay` (which runs
 * the response filters: the cache). Redirects are passed back, never followed.
 */
export function forwardRequest(this: ForwardContext, request: FastifyRequest, reply: FastifyReply): void {
  const ctx = request.proxy
  // An origin-form request naming the internal path itself is not ours to answer.
  if (ctx.form !== 'absolute' || ctx.target === null) {
    reply.callNotFound()
    return
  }
  const { opts, pools } = this
  const target: ProxyTarget = ctx.target
  const raw = request.raw
  ctx.direction = 'forward'
  if (viaHasLoop(raw.headers.via, opts.pseudonym)) {
    sendError(reply, new LoopDetectedError(`Via already names ${opts.pseudonym}`))
    return
  }
  // Squid's Safe_ports: a plain-HTTP request must not reach a port that speaks another protocol (SMTP,
  // a database, a port CONNECT is refused) by way of a request line it would take as its own.
  if (!opts.portAllowed(target.port)) {
    recordRefusal(request, 'forward.ports')
    sendError(reply, new ForbiddenError(`port ${target.port} is not allowed`))
    return
  }
  const hops = maxForwards(raw)
  if (hops === 'invalid') {
    sendError(reply, new BadRequestError('invalid Max-Forwards'))
    return
  }
  if (hops === 0) {
    answerAsFinalRecipient(request, reply, this.methods)
    return
  }

  if (pools.parent !== null) {
    // The parent resolves names and connects; the address rules are still checked here (guard.ts).
    const parent = pools.parent
    const refused = checkThroughParent(target, request, opts)
    if (refused === null) send(request, reply, parent, target, hops, opts)
    else if (refused instanceof Error) sendError(reply, refused)
    else
      refused
        .then((err) => {
          if (err !== null) return sendError(reply, err)
          send(request, reply, parent, target, hops, opts)
        })
        .catch(failed(reply))
    return
  }
  // A literal address is checked at once; a name is resolved first (and every answer checked).
  const dest = target.family !== 0 ? checkDestination(target, request, opts) : null
  if (dest !== null) {
    if (dest instanceof Error) sendError(reply, dest)
    else send(request, reply, pools.get(target.scheme, dest, target.port, null), target, hops, opts)
    return
  }
  resolveDestination(target, request, opts)
    .then((resolved) => {
      if (resolved instanceof Error) return sendError(reply, resolved)
      send(
        request,
        reply,
        pools.get(target.scheme, resolved, target.port, target.hostname),
        target,
        hops,
        opts,
      )
    })
    .catch(failed(reply))
}

/**
 * The handler does not return its promises: Fastify would answer an empty 200 when one resolves before
 * the upstream's head (the reply is hijacked only then, on the fast path). A rejection goes to the error
 * handler, as it would have.
 */
function failed(reply: FastifyReply): (err: unknown) => void {
  return (err) => {
    reply.send(err)
  }
}

function send(
  request: FastifyRequest,
  reply: FastifyReply,
  dispatcher: RelayDispatcher,
  target: ProxyTarget,
  hops: number | null,
  opts: ResolvedOptions,
): void {
  const raw = request.raw
  const headers = upstreamRequestHeaders(raw, target.authority, opts)
  if (hops !== null) headers['max-forwards'] = String(hops - 1)
  const origin = `${target.scheme}://${target.authority}`
  request.proxy.upstream = { url: origin, attempts: 1 }
  relay(
    dispatcher,
    { origin, path: target.path, method: raw.method ?? 'GET', headers, body: hasBody(raw) ? raw : null },
    request,
    reply,
    {
      headers: (_statusCode, upstreamHeaders) => clientResponseHeaders(upstreamHeaders, opts),
      failed: (err) => sendError(reply, upstreamError(err, target.authority)),
      done: noop,
    },
  )
}

function noop(): void {}
