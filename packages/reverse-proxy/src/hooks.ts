import type { OutgoingHttpHeaders } from 'node:http'
import type { ProxyError } from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'

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
   * The path and query sent upstream, after `rewritePrefix` (`request.url` is still the client's); return
   * the one to send. It must start with '/'. @fastify/http-proxy's `preRewrite` in spirit, after the prefix
   * rewrite rather than before, so a rule sees both.
   */
  rewritePath?: (request: FastifyRequest, path: string) => string
  /**
   * The upstream for this request: `base` is the origin the balancer picked; return it, another origin of
   * the route, or any http(s) origin (a pool is kept for it, up to 64 such origins).
   */
  getUpstream?: (request: FastifyRequest, base: string) => string
  /**
   * Answers a failure of the upstream (our 502, 503 or 504: `error.statusCode`, `error.code`) instead of
   * the default answer; `reply` has not been sent, and what it sends is the answer.
   */
  onError?: (reply: FastifyReply, context: { error: ProxyError }) => void
}

export const HOOK_NAMES = [
  'rewriteRequestHeaders',
  'rewriteHeaders',
  'rewritePath',
  'getUpstream',
  'onError',
] as const

/** A route's hooks once resolved: null where unset, so the proxy tests one field per hook. */
export interface ResolvedHooks {
  rewriteRequestHeaders: NonNullable<ProxyHooks['rewriteRequestHeaders']> | null
  rewriteHeaders: NonNullable<ProxyHooks['rewriteHeaders']> | null
  rewritePath: NonNullable<ProxyHooks['rewritePath']> | null
  getUpstream: NonNullable<ProxyHooks['getUpstream']> | null
  onError: NonNullable<ProxyHooks['onError']> | null
}
