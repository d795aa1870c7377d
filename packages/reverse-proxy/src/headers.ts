import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import {
  addForwardingHeaders,
  FORWARDING_HEADERS,
  parseHostHeader,
  requestHost,
  stripHopByHop,
  type TrustFunction,
} from '@proxykit/core'
import type { FastifyRequest } from 'fastify'
import type { ResolvedRoute } from './options.js'
import type { ProxyRoute } from './route.js'

export interface HeaderSettings {
  trust: TrustFunction | null
  xForwarded: boolean
  forwarded: boolean
  hide: ReadonlySet<string>
  /** The methods the routes take, for `Allow` when an OPTIONS is answered here (Max-Forwards: 0). */
  methods: string
  /** What requestHeaders leaves out besides hop-by-hop headers, built once by `requestRemoveSets`. */
  remove: RequestRemoveSets
}

/** `stripRequestHeaders` alone, and with Host, the forwarding headers, or both (see requestHeaders). */
export interface RequestRemoveSets {
  plain: ReadonlySet<string>
  host: ReadonlySet<string>
  forwarding: ReadonlySet<string>
  forwardingAndHost: ReadonlySet<string>
}

export function requestRemoveSets(strip: readonly string[]): RequestRemoveSets {
  return {
    plain: new Set(strip),
    host: new Set([...strip, 'host']),
    forwarding: new Set([...strip, ...FORWARDING_HEADERS]),
    forwardingAndHost: new Set([...strip, ...FORWARDING_HEADERS, 'host']),
  }
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
  const forwarding = settings.xForwarded || settings.forwarded
  // What the copy leaves out besides the hop-by-hop ones: `stripRequestHeaders`, Host unless the route
  // preserves it, and the forwarding headers about to be set. Left out while copying rather than deleted
  // after: deleting a property V8 did not add last turns the object into a slow dictionary.
  const sets = settings.remove
  const remove = forwarding
    ? route.preserveHost
      ? sets.forwarding
      : sets.forwardingAndHost
    : route.preserveHost
      ? sets.plain
      : sets.host
  const out = stripHopByHop(req.headers, { upgrade, remove, lowerCase: true })
  // A message framed by Transfer-Encoding is re-framed by the client (chunked); a Content-Length beside it
  // (which Node refuses anyway) must never reach the upstream as a second opinion on the length.
  if (req.headers['transfer-encoding'] !== undefined) delete out['content-length']
  // An HTTP/2 client's authority is `:authority`, which the copy left out with the other pseudo-headers.
  if (route.preserveHost && out.host === undefined && req.httpVersionMajor === 2) out.host = requestHost(req)
  if (forwarding) {
    addForwardingHeaders(out, req, {
      trust: settings.trust ?? fastifyTrust(request),
      proto: scheme(req),
      host: requestHost(req),
      xForwarded: settings.xForwarded,
      forwarded: settings.forwarded,
    })
  }
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

/** The first value of a comma-separated header, trimmed and lower-cased ('' when absent). */
function firstValue(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined) return ''
  const comma = v.indexOf(',')
  return (comma === -1 ? v : v.slice(0, comma)).trim().toLowerCase()
}

/**
 * The origin the client addressed: the connection's scheme and Host, or, from a trusted proxy in front
 * (a TLS terminator, say), its X-Forwarded-Proto and X-Forwarded-Host. null without a usable Host.
 */
function publicOrigin(request: FastifyRequest, settings: HeaderSettings): string | null {
  const req = request.raw
  let proto: string = scheme(req)
  let host = requestHost(req)
  const peer = req.socket.remoteAddress
  if (peer !== undefined && (settings.trust ?? fastifyTrust(request))(peer, 0)) {
    const fp = firstValue(req.headers['x-forwarded-proto'])
    if (fp === 'http' || fp === 'https') proto = fp
    const fh = firstValue(req.headers['x-forwarded-host'])
    if (fh !== '' && !(parseHostHeader(fh) instanceof Error)) host = fh
  }
  if (host === undefined || host === '') return null
  return `${proto}://${host}`
}

const ABSOLUTE = /^(https?):\/\/([^/?#]*)/i

/**
 * `Location: http://10.0.0.5:8080/v1/x` → `https://public.example/api/x`: a redirect must never show the
 * client an upstream's address (nginx's `proxy_redirect default`). Any upstream of the route counts (a
 * redirect may name a sibling), in any spelling of its origin (case, an explicit default port); the rest
 * of the reference is kept byte for byte. Relative references are left alone except for the prefix
 * rewrite of absolute paths.
 */
function rewriteLocation(
  value: string,
  route: ProxyRoute,
  request: FastifyRequest,
  settings: HeaderSettings,
): string {
  const m = ABSOLUTE.exec(value)
  if (m === null) {
    if (value[0] === '/' && value[1] !== '/') return unrewritePath(value, route.options)
    return value
  }
  let origin: string
  try {
    origin = new URL(`${m[1]}://${m[2]}`).origin
  } catch {
    return value
  }
  if (!route.upstreams.some((u) => u.url === origin)) return value
  const pub = publicOrigin(request, settings)
  if (pub === null) return value
  const rest = value.slice(m[0].length)
  return pub + unrewritePath(rest === '' || rest[0] !== '/' ? `/${rest}` : rest, route.options)
}

/** The response headers passed to the client: hop-by-hop and hidden ones removed, locations rewritten. */
export function responseHeaders(
  headers: IncomingHttpHeaders,
  request: FastifyRequest,
  route: ProxyRoute,
  settings: HeaderSettings,
): OutgoingHttpHeaders {
  const out = stripHopByHop(headers, { remove: settings.hide, lowerCase: true })
  const location = out.location
  if (typeof location === 'string') out.location = rewriteLocation(location, route, request, settings)
  const contentLocation = out['content-location']
  if (typeof contentLocation === 'string')
    out['content-location'] = rewriteLocation(contentLocation, route, request, settings)
  return out
}
