import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply } from 'fastify'
import { HOP_BY_HOP } from './hop-by-hop.js'

/**
 * Headers that describe the bytes of this one message or its connection: they always come from the
 * response being written (the upstream's, a cache entry's), never from a hook, or the framing would lie.
 * For every other name the app's hooks win: what `reply.header()` (or `reply.raw.setHeader()`) set in
 * `onRequest`/`preHandler` (@fastify/cors, @fastify/helmet, the app's own) was made for this request and
 * replaces the upstream's value of the same name, as it would on any Fastify route.
 */
export const RESPONSE_OWNED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'content-length',
  'content-encoding',
  'content-range',
])

/**
 * Fastify keeps what `reply.header()` set in an object under this symbol until it sends. It is not
 * exported, so it is found once by its description; `undefined` until the first reply, `null` when this
 * Fastify has no such symbol (then `reply.getHeaders()` is used, always correct).
 */
let kReplyHeaders: symbol | null | undefined

function findSymbol(target: object, description: string): symbol | null {
  for (const s of Object.getOwnPropertySymbols(target)) {
    if (s.description === description) {
      const v = (target as Record<symbol, unknown>)[s]
      if (v !== null && typeof v === 'object') return s
    }
  }
  return null
}

/**
 * The headers the request's own hooks set so far, read-only: what `reply.getHeaders()` returns, without
 * its two object copies when nothing was set on `reply.raw` directly (the usual case). Those copies (a
 * spread of `raw.getHeaders()` and of Fastify's table, even when both are empty) are made on every answer,
 * hits included (`node bench/cache.mjs instructions`).
 */
export function hookHeaders(reply: FastifyReply): OutgoingHttpHeaders {
  if (kReplyHeaders === undefined) kReplyHeaders = findSymbol(reply, 'fastify.reply.headers')
  if (kReplyHeaders === null || reply.raw.getHeaderNames().length !== 0)
    return reply.getHeaders() as OutgoingHttpHeaders
  return (reply as unknown as Record<symbol, OutgoingHttpHeaders>)[kReplyHeaders]!
}

/**
 * Before a head is written on `reply.raw` (the fast path): puts the hooks' headers into `headers` (a
 * fresh object per response, lower-case names), theirs replacing the response's own except for the
 * `RESPONSE_OWNED` names. What a hook set with `reply.header()` is copied in; what it set on `reply.raw`
 * directly (@fastify/helmet sets its dozen headers there) is left where it is, since Node merges it into
 * the head anyway: only a response header of the same name is dropped so the hook's stays, and a hook's
 * framing header is removed. Copying those too made Node validate and store each of them a second time
 * when `writeHead` merged `headers` over them.
 */
export function mergeHookHeaders(reply: FastifyReply, headers: OutgoingHttpHeaders): void {
  const res = reply.raw
  // getHeaderNames() builds a new array: read it once.
  const rawNames = res.getHeaderNames()
  if (kReplyHeaders === undefined) kReplyHeaders = findSymbol(reply, 'fastify.reply.headers')
  const table =
    kReplyHeaders === null
      ? (reply.getHeaders() as OutgoingHttpHeaders)
      : (reply as unknown as Record<symbol, OutgoingHttpHeaders>)[kReplyHeaders]!
  for (const name in table) {
    const v = table[name]
    if (v !== undefined && !RESPONSE_OWNED.has(name)) headers[name] = v
  }
  for (let i = 0; i < rawNames.length; i++) {
    const name = rawNames[i]!
    if (RESPONSE_OWNED.has(name)) res.removeHeader(name)
    else if (kReplyHeaders !== null && table[name] === undefined && headers[name] !== undefined)
      delete headers[name]
  }
}

/**
 * On Fastify's own path (`reply.send`, so `onSend` hooks run): sets the response's status and headers on
 * the reply under the same rule as `mergeHookHeaders`: a name a hook already set keeps the hook's value,
 * unless it is `RESPONSE_OWNED`.
 */
export function setResponseOnReply(
  reply: FastifyReply,
  statusCode: number,
  headers: OutgoingHttpHeaders,
): void {
  const own = hookHeaders(reply)
  const framing: string[] = []
  for (const name in own) if (RESPONSE_OWNED.has(name)) framing.push(name)
  for (const name of framing) reply.removeHeader(name)
  reply.code(statusCode)
  for (const name in headers) {
    const v = headers[name]
    if (v === undefined || (own[name] !== undefined && !RESPONSE_OWNED.has(name))) continue
    reply.header(name, v)
  }
}

/**
 * Fastify's context object of the reply's route (`reply[kRouteContext]`, on the request): found once by
 * its description, like the headers table above.
 */
let kRouteContext: symbol | null | undefined
const kAnswerPath = Symbol('proxykit.answerPath')

interface RouteContext {
  onSend: Array<{ name: string }> | null
  [kAnswerPath]?: boolean
}

/**
 * Names of `onSend` hooks that leave a proxied answer alone (the cache's own, which only sees plain
 * routes' payloads): such a hook is no reason to leave the fast path. Fastify binds every hook to its
 * instance when it builds a route's context, which keeps no reference to the original function but
 * does keep its name (`bound <name>`), so the name is how it is recognised.
 */
export const PASSIVE_ON_SEND_PREFIX = 'proxykitPassive'

/**
 * Whether this reply's route answers through Fastify (`reply.send`, so the app's `onSend` hooks run:
 * @fastify/compress, an app's own) or on `reply.raw` (the fast path: see docs/architecture.md, "Two answer
 * paths"). Decided once per route, from the `onSend` hooks Fastify built into its context, and memoised
 * on that context: every later request of the route reads one property.
 */
export function answersThroughFastify(reply: FastifyReply): boolean {
  if (kRouteContext === undefined) kRouteContext = findSymbol(reply.request, 'fastify.context')
  if (kRouteContext === null) return true
  const context = (reply.request as unknown as Record<symbol, RouteContext>)[kRouteContext]!
  const memo = context[kAnswerPath]
  if (memo !== undefined) return memo
  const hooks = context.onSend
  let foreign = false
  if (hooks !== null)
    for (const hook of hooks) {
      const name = hook.name.startsWith('bound ') ? hook.name.slice(6) : hook.name
      if (!name.startsWith(PASSIVE_ON_SEND_PREFIX)) foreign = true
    }
  context[kAnswerPath] = foreign
  return foreign
}
