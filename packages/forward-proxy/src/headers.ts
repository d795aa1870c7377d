import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import { addForwardingHeaders, appendVia, IDENTIFYING_HEADERS, stripHopByHop, viaEntry } from '@proxykit/core'
import type { ResolvedOptions } from './options.js'

// `expect` is answered by this hop (Node sends `100 Continue` itself), so it is not passed on;
// `host` is rewritten from the target.
const ALWAYS_REMOVED = ['expect', 'host']
const ANONYMOUS_REMOVED: ReadonlySet<string> = new Set([...IDENTIFYING_HEADERS, ...ALWAYS_REMOVED])
const TRANSPARENT_REMOVED: ReadonlySet<string> = new Set(ALWAYS_REMOVED)

/**
 * The headers sent to the origin: hop-by-hop ones removed (with whatever `Connection` names), `Host` from
 * the target's authority, and either every identifying header removed (anonymous) or `Via` and
 * `Forwarded`/`X-Forwarded-For` added (transparent).
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  authority: string,
  opts: ResolvedOptions,
): Record<string, string | string[]> {
  const anonymous = opts.mode === 'anonymous'
  const out = stripHopByHop(req.headers, {
    remove: anonymous ? ANONYMOUS_REMOVED : TRANSPARENT_REMOVED,
    lowerCase: true,
  })
  out.host = authority
  if (!anonymous) {
    out.via = appendVia(req.headers.via, viaEntry(req.httpVersion, opts.pseudonym))
    addForwardingHeaders(out, req, { trust: opts.trust, proto: 'http' })
  }
  return out as Record<string, string | string[]>
}

/** The response headers sent to the client: hop-by-hop ones removed, and our `Via` in transparent mode. */
export function clientResponseHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  opts: ResolvedOptions,
): OutgoingHttpHeaders {
  const out = stripHopByHop(headers as IncomingHttpHeaders, { lowerCase: true })
  if (opts.mode === 'transparent') out.via = appendVia(headers.via, viaEntry('1.1', opts.pseudonym))
  return out
}
