import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyRequest } from 'fastify'

/**
 * The proxy's extension points, named and shaped as @fastify/reply-from's so a function written for one
 * works with the other. Each is optional and costs nothing per request when unset.
 */
export interface ProxyHooks {
  /** The headers sent upstream, after hop-by-hop removal and the forwarding headers; return the ones to send. */
  rewriteRequestHeaders?: (request: FastifyRequest, headers: OutgoingHttpHeaders) => OutgoingHttpHeaders
  /** The upstream's response headers, after hop-by-hop removal and Location rewriting; return the ones to send. */
  rewriteHeaders?: (headers: OutgoingHttpHeaders, request: FastifyRequest) => OutgoingHttpHeaders
  /**
   * The upstream for this request: `base` is the origin the balancer picked; return it, another origin of
   * the route, or any http(s) origin (a pool is kept for it, up to 64 such origins).
   */
  getUpstream?: (request: FastifyRequest, base: string) => string
}

export const HOOK_NAMES = ['rewriteRequestHeaders', 'rewriteHeaders', 'getUpstream'] as const

/**
 * reply-from's `onError(reply, { error })` is refused by name for now: our error answers are written on the
 * already hijacked raw response, where `reply.send` does nothing. It needs core's answer path that sends
 * errors through Fastify (issue 21 items 1-2).
 */
export const ON_ERROR_NOT_YET =
  'not supported yet: error answers are written on the hijacked raw response, where reply.send does nothing'

/** A route's hooks once resolved: null where unset, so the proxy tests one field per hook. */
export interface ResolvedHooks {
  rewriteRequestHeaders: NonNullable<ProxyHooks['rewriteRequestHeaders']> | null
  rewriteHeaders: NonNullable<ProxyHooks['rewriteHeaders']> | null
  getUpstream: NonNullable<ProxyHooks['getUpstream']> | null
}
