import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import { addForwardingHeaders, stripHopByHop, type TrustFunction } from '@proxykit/core'
import type { FastifyRequest } from 'fastify'
import type { ResolvedRoute } from './options.js'
import type { Upstream } from './upstream.js'

export interface HeaderSettings {
  trust: TrustFunction | null
  xForwarded: boolean
  forwarded: boolean
  hide: ReadonlySet<string>
}

/**
 * Fastify's own trustProxy decision when the plugin was given none: with Fastify's trustProxy set,
 * `request.ips` lists the peer plus every X-Forwarded-For hop it trusted, so more than one entry means
 * it trusted the peer. Without an X-Forwarded-For there is nothing of the client's to keep anyway.
 */
function fastifyTrust(request: FastifyRequest): TrustFunction {
  const ips = (request as { ips?: string[] }).ips
  const trusted = ips !== undefined && ips.length > 1
  return () => trusted
}

export function scheme(req: IncomingMessage): 'http' | 'https' {
  return (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http'
}

/** The headers sent upstream: hop-by-hop removed, then X-Forwarded-* / Forwarded and Host set. */
export function requestHeaders(
  request: FastifyRequest,
  route: ResolvedRoute,
  settings: HeaderSettings,
  upgrade: boolean,
): OutgoingHttpHeaders {
  const req = request.raw
  const out = stripHopByHop(req.headers, { upgrade })
  // A message framed by Transfer-Encoding is re-framed by undici (chunked); a Content-Length beside it
  // (which Node refuses anyway) must never reach the upstream as a second opinion on the length.
  if (req.headers['transfer-encoding'] !== undefined) delete out['content-length']
  if (settings.xForwarded || settings.forwarded) {
    addForwardingHeaders(out, req, {
      trust: settings.trust ?? fastifyTrust(request),
      proto: scheme(req),
      host: req.headers.host,
      xForwarded: settings.xForwarded,
      forwarded: settings.forwarded,
    })
  }
  if (!route.preserveHost) delete out.host
  return out
}

/** `/api/x?y` → `/v1/x?y` for prefix '/api' and rewritePrefix '/v1'. */
export function rewritePath(url: string, route: ResolvedRoute): string {
  const { prefix, rewritePrefix } = route
  if (prefix === rewritePrefix) return url
  if (prefix === '/') return rewritePrefix + url
  if (!url.startsWith(prefix)) return url
  const rest = url.slice(prefix.length)
  if (rewritePrefix === '/') return rest === '' || rest[0] === '?' ? `/${rest}` : rest
  return rewritePrefix + rest
}

/** The reverse of rewritePath for a Location path: `/v1/x` → `/api/x`. */
function unrewritePath(path: string, route: ResolvedRoute): string {
  const { prefix, rewritePrefix } = route
  if (prefix === rewritePrefix) return path
  if (rewritePrefix === '/') return prefix === '/' ? path : prefix + path
  if (path === rewritePrefix || path.startsWith(`${rewritePrefix}/`) || path.startsWith(`${rewritePrefix}?`))
    return (prefix === '/' ? '' : prefix) + path.slice(rewritePrefix.length) || '/'
  return path
}

/**
 * `Location: http://10.0.0.5:8080/v1/x` → `https://public.example/api/x`: a redirect must never show the
 * client an upstream's address (nginx's `proxy_redirect default`). Relative references are left alone
 * except for the prefix rewrite of absolute paths.
 */
function rewriteLocation(
  value: string,
  upstream: Upstream,
  req: IncomingMessage,
  route: ResolvedRoute,
): string {
  const origin = upstream.url
  if (value.length >= origin.length && value.slice(0, origin.length).toLowerCase() === origin.toLowerCase()) {
    const rest = value.slice(origin.length)
    if (rest === '' || rest[0] === '/' || rest[0] === '?' || rest[0] === '#') {
      const host = req.headers.host
      if (host === undefined) return value
      return `${scheme(req)}://${host}${unrewritePath(rest === '' ? '/' : rest, route)}`
    }
    return value
  }
  if (value[0] === '/' && value[1] !== '/') return unrewritePath(value, route)
  return value
}

/** The response headers passed to the client: hop-by-hop and hidden ones removed, locations rewritten. */
export function responseHeaders(
  headers: IncomingHttpHeaders,
  upstream: Upstream,
  req: IncomingMessage,
  route: ResolvedRoute,
  settings: HeaderSettings,
): OutgoingHttpHeaders {
  const out = stripHopByHop(headers, { remove: settings.hide })
  const location = out.location
  if (typeof location === 'string') out.location = rewriteLocation(location, upstream, req, route)
  const contentLocation = out['content-location']
  if (typeof contentLocation === 'string')
    out['content-location'] = rewriteLocation(contentLocation, upstream, req, route)
  return out
}
