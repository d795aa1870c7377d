import type { IncomingMessage, Server } from 'node:http'
import { kForwardBridged, parseAbsoluteTarget } from '@proxykit/core'

/**
 * RFC 9112 §3.2.2: a server that receives an absolute-form request-target uses the target's authority and
 * ignores Host. Before Fastify routes it (so host routes, access rules and the cache all see one host),
 * `GET http://b.test/x` with `Host: a.test` becomes `GET /x` with `Host: b.test`: a request for a host no
 * route serves then finds no route (404), as the same request in origin-form would. A target core cannot
 * parse is left alone for core's classification to refuse (400). Returns whether it rewrote.
 */
export function absoluteToOriginForm(req: IncomingMessage, server: Server): boolean {
  const url = req.url
  if (url === undefined || url.length === 0) return false
  const c = url.charCodeAt(0)
  if (c === 47 /* / */ || c === 42 /* * */ || req.method === 'CONNECT') return false
  // The forward proxy on the same server owns absolute-form requests: they are its proxy requests.
  if ((server as { [kForwardBridged]?: boolean })[kForwardBridged] === true) return false
  const target = parseAbsoluteTarget(url)
  if (target instanceof Error) return false
  req.url = target.path
  req.headers.host = target.authority
  // Core counts the Host lines (more than one is a 400, whatever the form): replace, never add one.
  const raw = req.rawHeaders
  let found = false
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') {
      raw[i + 1] = target.authority
      found = true
    }
  }
  if (!found) raw.push('Host', target.authority)
  return true
}
