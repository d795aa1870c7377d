import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply } from 'fastify'
import { HOP_BY_HOP } from './hop-by-hop.js'
import { type FastifyRouteContext, replyHeaderTable, routeContext } from './internals.js'

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
 * The headers the request's own hooks set so far, read-only: what `reply.getHeaders()` returns, without
 * its two object copies when nothing was set on `reply.raw` directly (the usual case). Those copies (a
 * spread of `raw.getHeaders()` and of Fastify's table, even when both are empty) are made on every answer,
 * hits included (`node bench/cache.mjs instructions`).
 */
export function hookHeaders(reply: FastifyReply): OutgoingHttpHeaders {
  const table = replyHeaderTable(reply)
  if (table === null || reply.raw.getHeaderNames().length !== 0)
    return reply.getHeaders() as OutgoingHttpHeaders
  return table
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
  const live = replyHeaderTable(reply)
  const table = live ?? (reply.getHeaders() as OutgoingHttpHeaders)
  for (const name in table) {
    const v = table[name]
    if (v === undefined || RESPONSE_OWNED.has(name)) continue
    headers[name] = name === 'vary' ? joinVary(headers.vary, v) : v
  }
  for (let i = 0; i < rawNames.length; i++) {
    const name = rawNames[i]!
    if (RESPONSE_OWNED.has(name)) res.removeHeader(name)
    // `headers` first: a name only the hook set (helmet's dozen) is not in it, and each lookup here is a
    // megamorphic one, paid per name per request.
    else if (name === 'vary') {
      // writeHead's `vary` would replace the raw one: one joined value goes there instead.
      if (headers.vary !== undefined) {
        headers.vary = joinVary(headers.vary, res.getHeader('vary'))
        res.removeHeader('vary')
      }
    } else if (live !== null && headers[name] !== undefined && table[name] === undefined) delete headers[name]
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
    if (v === undefined) continue
    if (own[name] !== undefined && !RESPONSE_OWNED.has(name)) {
      if (name === 'vary') reply.header('vary', joinVary(v, own.vary))
      continue
    }
    reply.header(name, v)
  }
}

/** A single field name (an RFC 9110 token), nothing around it. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const oneName = (v: string) => v !== '*' && TOKEN.test(v)

/**
 * `Vary` is the one list both sides add to (RFC 9110, 12.5.5): the upstream's names say what its content
 * depends on (a cache in front of us needs them), a hook's what the hook's headers depend on (@fastify/cors
 * adds `Origin`). The answer carries both, each name once, and `*` alone when either side said `*`.
 */
export function joinVary(response: unknown, hook: unknown): string {
  // One side alone naming one field (a CORS hook's `Origin` on an answer without Vary of its own, on
  // every such request): the general join below would give back that same string, for about 3,000
  // instructions of arrays, a Set and splits.
  if (response == null && typeof hook === 'string' && oneName(hook)) return hook
  if (hook == null && typeof response === 'string' && oneName(response)) return response
  const names: string[] = []
  const seen = new Set<string>()
  for (const side of [response, hook]) {
    if (side === undefined || side === null) continue
    for (const value of Array.isArray(side) ? side : [side]) {
      for (const part of String(value).split(',')) {
        const name = part.trim()
        if (name === '') continue
        if (name === '*') return '*'
        const key = name.toLowerCase()
        if (seen.has(key)) continue
        seen.add(key)
        names.push(name)
      }
    }
  }
  return names.join(', ')
}

// The answer path is memoised on Fastify's context of the route (internals.ts), under our own symbol.
const kAnswerPath = Symbol('proxykit.answerPath')
type MemoContext = FastifyRouteContext & { [kAnswerPath]?: boolean }

/**
 * Names of `onSend` hooks that leave a proxied answer alone (the cache's own, which only sees plain
 * routes' payloads): such a hook is no reason to leave the fast path. Fastify binds every hook to its
 * instance when it builds a route's context, which keeps no reference to the original function but
 * does keep its name (`bound <name>`), so the name is how it is recognised.
 */
export const PASSIVE_ON_SEND_PREFIX = 'proxykitPassive'

/**
 * Marks an `onSend` hook as passive (see `PASSIVE_ON_SEND_PREFIX`): its name gets the prefix, which
 * Fastify's binding keeps. A plugin marks its hook with this rather than spelling the prefix itself.
 */
export function passiveOnSend<T extends (...args: never[]) => unknown>(hook: T): T {
  if (!hook.name.startsWith(PASSIVE_ON_SEND_PREFIX))
    Object.defineProperty(hook, 'name', {
      value: `${PASSIVE_ON_SEND_PREFIX}${hook.name}`,
      configurable: true,
    })
  return hook
}

/**
 * Whether this reply's route answers through Fastify (`reply.send`, so the app's `onSend` hooks run:
 * @fastify/compress, an app's own) or on `reply.raw` (the fast path: see docs/architecture.md, "Two answer
 * paths"). Decided once per route, from the `onSend` hooks Fastify built into its context, and memoised
 * on that context: every later request of the route reads one property.
 */
export function answersThroughFastify(reply: FastifyReply): boolean {
  const context = routeContext(reply.request) as MemoContext | null
  if (context === null) return true
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
