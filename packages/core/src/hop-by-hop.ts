import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

/**
 * Headers that describe one connection, never the message (RFC 9110 §7.6.1), plus the legacy ones every
 * proxy strips. `proxy-authorization` / `proxy-authenticate` belong to the hop between client and this
 * proxy; a plugin that chains to a parent proxy adds its own.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'trailer',
  'http2-settings',
])

// A client may name any header in `Connection`, but it must not be able to remove the framing of its own
// message or the routing of it by doing so: these are never treated as connection options.
const NOT_NOMINATABLE: ReadonlySet<string> = new Set(['host', 'content-length'])
const COMMON: ReadonlySet<unknown> = new Set(['keep-alive', 'Keep-Alive', 'close', 'Close'])
const NONE: readonly string[] = []

export interface StripOptions {
  /** Keep `Upgrade` and `Connection: upgrade` because this request is being upgraded (WebSocket). */
  upgrade?: boolean
  /** Extra header names (lower case) to remove. */
  remove?: ReadonlySet<string> | readonly string[]
  /**
   * The names are lower case already, as in Node's `IncomingMessage#headers` and core's parsed response
   * heads: they are not lower-cased again (a call per header).
   */
  lowerCase?: boolean
}

/** Names listed in `Connection` (lower case), without the ones a client may not nominate. */
export function connectionTokens(value: string | string[] | number | undefined): string[] {
  if (value === undefined) return []
  const joined = Array.isArray(value) ? value.join(',') : String(value)
  const out: string[] = []
  for (const raw of joined.split(',')) {
    const token = raw.trim().toLowerCase()
    if (token !== '' && !NOT_NOMINATABLE.has(token)) out.push(token)
  }
  return out
}

/**
 * A copy of `headers` without hop-by-hop headers: the fixed list, every header named in `Connection`,
 * `options.remove` and HTTP/2 pseudo-headers. With `options.upgrade`, `Upgrade` stays and `Connection`
 * becomes `upgrade`.
 * Runs before any header the proxy adds itself, so `Connection: close, X-Forwarded-For` cannot remove the
 * proxy's own `X-Forwarded-For`.
 */
export function stripHopByHop(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
  options: StripOptions = {},
): OutgoingHttpHeaders {
  const connection = headerValue(headers, 'connection')
  // Almost every message says only `keep-alive` or `close`, both removed anyway: nothing more to find.
  const named = COMMON.has(connection) ? NONE : connectionTokens(connection)
  const extra = options.remove
  const lowerCase = options.lowerCase === true
  const out: OutgoingHttpHeaders = {}
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined) continue
    const lower = lowerCase ? name : name.toLowerCase()
    if (HOP_BY_HOP.has(lower)) continue
    // An HTTP/2 request's pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`) are in Node's
    // `headers` too: they describe this hop's framing (RFC 9113 §8.3) and are not field names at all.
    if (lower.charCodeAt(0) === 58 /* : */) continue
    if (named.length !== 0 && named.includes(lower)) continue
    if (
      extra !== undefined &&
      (extra instanceof Set ? extra.has(lower) : (extra as string[]).includes(lower))
    )
      continue
    out[lower] = value
  }
  const upgrade = options.upgrade === true ? headerValue(headers, 'upgrade') : undefined
  if (upgrade !== undefined) {
    out.upgrade = String(upgrade)
    out.connection = 'upgrade'
  }
  return out
}

// Node's parsed headers are lower-case, but headers built by hand or by other clients may not be: a
// `Connection` spelled `Connection` must still name what it names.
function headerValue(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
  lower: string,
): string | string[] | number | undefined {
  const direct = headers[lower]
  if (direct !== undefined) return direct
  for (const name in headers)
    if (name.length === lower.length && name.toLowerCase() === lower) return headers[name]
  return undefined
}
