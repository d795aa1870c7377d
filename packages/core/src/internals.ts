import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'

// Every read of another library's internals in @proxykit/core, in this one file: Fastify's route context
// and its reply header table (not exported: found once by their symbols' descriptions), and Node's raw
// write on a ServerResponse. Each has a public road the caller takes when it is missing, so an upgrade
// that changes one costs speed, never correctness; `test/internals.test.ts` runs each against the real
// library so that such an upgrade fails there first.

/** A symbol-keyed object property of `target` (own, not inherited), by the symbol's description. */
function findSymbol(target: object, description: string): symbol | null {
  for (const s of Object.getOwnPropertySymbols(target)) {
    if (s.description === description) {
      const v = (target as Record<symbol, unknown>)[s]
      if (v !== null && typeof v === 'object') return s
    }
  }
  return null
}

/** What we read of Fastify's context object of a route (lib/context.js). */
export interface FastifyRouteContext {
  /** The route's config: the object `request.routeOptions.config` returns. */
  config: unknown
  /** The route's `onSend` hooks as Fastify bound them (`bound <name>`), or null when it has none. */
  onSend: Array<{ name: string }> | null
}

// `undefined` until the first request, `null` when this Fastify has no such symbol.
let kRouteContext: symbol | null | undefined

/** Fastify's context of the request's route (`request[kRouteContext]`), or null where Fastify has none. */
export function routeContext(request: FastifyRequest): FastifyRouteContext | null {
  if (kRouteContext === undefined) kRouteContext = findSymbol(request, 'fastify.context')
  if (kRouteContext === null) return null
  return (request as unknown as Record<symbol, FastifyRouteContext>)[kRouteContext]!
}

let kReplyHeaders: symbol | null | undefined

/**
 * What `reply.header()` set so far, as Fastify keeps it until it sends (`reply[kReplyHeaders]`, lower-case
 * names): the live object, not a copy. Null where Fastify has no such table (then `reply.getHeaders()`).
 */
export function replyHeaderTable(reply: FastifyReply): OutgoingHttpHeaders | null {
  if (kReplyHeaders === undefined) kReplyHeaders = findSymbol(reply, 'fastify.reply.headers')
  if (kReplyHeaders === null) return null
  return (reply as unknown as Record<symbol, OutgoingHttpHeaders>)[kReplyHeaders]!
}

type RawWrite = (data: string, encoding: BufferEncoding) => boolean

/**
 * Node's own write of bytes ahead of the response head (`ServerResponse.prototype._writeRaw`, what
 * `writeEarlyHints()` and `writeProcessing()` use), bound to `res`; null where Node has none.
 */
export function rawWriter(res: ServerResponse): ((data: string, encoding: BufferEncoding) => boolean) | null {
  const write = (res as unknown as { _writeRaw?: RawWrite })._writeRaw
  return typeof write === 'function' ? (data, encoding) => write.call(res, data, encoding) : null
}
