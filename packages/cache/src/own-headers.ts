import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply } from 'fastify'

/**
 * Fastify keeps what `reply.header()` set in an object under this symbol until it sends. It is not
 * exported, so it is found once by its description; `undefined` until the first hit, `null` when this
 * Fastify has no such symbol (then `reply.getHeaders()` is used, always correct).
 */
let kReplyHeaders: symbol | null | undefined

function findSymbol(reply: FastifyReply): symbol | null {
  for (const s of Object.getOwnPropertySymbols(reply)) {
    if (s.description === 'fastify.reply.headers') {
      const v = (reply as unknown as Record<symbol, unknown>)[s]
      if (v !== null && typeof v === 'object') return s
    }
  }
  return null
}

/**
 * The headers the request's own hooks set before a hit is answered, read-only: what `reply.getHeaders()`
 * returns, without its two object copies when nothing was set on `reply.raw` directly (the usual case).
 * Those copies (a spread of `raw.getHeaders()` and of Fastify's table, even when both are empty) were
 * about 1,280 of a 100 B hit's 69,500 instructions (`node bench/cache.mjs instructions`).
 */
export function ownHeaders(reply: FastifyReply): OutgoingHttpHeaders {
  if (kReplyHeaders === undefined) kReplyHeaders = findSymbol(reply)
  if (kReplyHeaders === null || reply.raw.getHeaderNames().length !== 0) {
    return reply.getHeaders() as OutgoingHttpHeaders
  }
  return (reply as unknown as Record<symbol, OutgoingHttpHeaders>)[kReplyHeaders]!
}
