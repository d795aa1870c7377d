import { connectionSlot, kOriginalTarget, requestHost } from '@proxykit/core'
import type { FastifyRequest } from 'fastify'

// The cache key (README, "Cache key"): `scheme://authority/path?query` of the effective request URI,
// exactly as the client spelled the path and query (no normalisation: two spellings are two entries,
// never one poisoned entry), the authority lower-cased without its default port. The method is implied:
// only GET responses are stored and HEAD reads them. Variants are selected by the `Vary` headers, and a
// route's extra key part travels as the pseudo-header `:key`.

function authority(scheme: string, host: string): string {
  const h = host.toLowerCase()
  if (scheme === 'http' && h.endsWith(':80')) return h.slice(0, -3)
  if (scheme === 'https' && h.endsWith(':443')) return h.slice(0, -4)
  return h
}

/** The last origin-form key built on a connection, and its parts. */
interface LastKey {
  host: string
  path: string
  scheme: string
  url: string
}
const lastKey = connectionSlot<LastKey>(Symbol('proxykit.cache.lastKey'))

/** The primary key for a request, or null when it has none (CONNECT, no Host). */
export function requestUrl(request: FastifyRequest): string | null {
  const ctx = request.proxy
  if (ctx.form === 'absolute') {
    const t = ctx.target
    return t === null ? null : `${t.scheme}://${t.authority}${t.path}`
  }
  if (ctx.form !== 'origin' || ctx.host === null) return null
  const host = requestHost(request.raw)
  if (host === undefined) return null
  const raw = request.raw as typeof request.raw & { [kOriginalTarget]?: string }
  const path = raw[kOriginalTarget] ?? raw.url ?? '/'
  const scheme = request.protocol
  // A keep-alive connection mostly asks for the same few URLs: its last key is reused when built from
  // the same parts. Besides the concatenation, the reused string's hash is already computed, which the
  // store's Map lookup would otherwise pay for on every request.
  const socket = raw.socket
  const last = socket == null ? undefined : lastKey.get(socket)
  if (last !== undefined && last.path === path && last.host === host && last.scheme === scheme)
    return last.url
  const url = `${scheme}://${authority(scheme, host)}${path}`
  if (socket != null) {
    if (last === undefined) lastKey.set(socket, { host, path, scheme, url })
    else {
      last.host = host
      last.path = path
      last.scheme = scheme
      last.url = url
    }
  }
  return url
}

/** The primary key for a URL given to `purge` (absolute, http or https). */
export function urlKey(input: string): string {
  let u: URL
  try {
    u = new URL(input)
  } catch {
    throw new TypeError(`@proxykit/cache: purge url must be an absolute URL, got ${input}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new TypeError(`@proxykit/cache: purge url must be http or https, got ${input}`)
  return `${u.protocol}//${u.host}${u.pathname}${u.search}`
}

/**
 * A `Location` / `Content-Location` value resolved against the request's URL, when it has the same
 * origin (RFC 9111 §4.4: only those may be invalidated, or one site could purge another's entries).
 */
export function sameOriginKey(value: string | undefined, base: string): string | null {
  if (value === undefined || value === '') return null
  try {
    const b = new URL(base)
    const u = new URL(value, b)
    if (u.origin !== b.origin) return null
    return `${u.protocol}//${u.host}${u.pathname}${u.search}`
  } catch {
    return null
  }
}
