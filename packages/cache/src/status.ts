import type { OutgoingHttpHeaders } from 'node:http'

/** The `fwd` values of RFC 9211 this cache uses. */
export type Forward = 'bypass' | 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale'

/** Cache-Status member for a hit: `name; hit; ttl=N` (ttl negative when served stale). */
export function hitStatus(name: string, ttl: number, detail?: string): string {
  const base = `${name}; hit; ttl=${Math.round(ttl)}`
  return detail === undefined ? base : `${base}; detail=${detail}`
}

/** Cache-Status member for a forwarded request. */
export function forwardStatus(
  name: string,
  fwd: Forward,
  status: number | null,
  stored: boolean,
  ttl: number | null,
  detail?: string,
): string {
  let s = `${name}; fwd=${fwd}`
  if (status !== null) s += `; fwd-status=${status}`
  if (stored) s += '; stored'
  if (ttl !== null) s += `; ttl=${Math.round(ttl)}`
  if (detail !== undefined && detail !== '') s += `; detail=${detail}`
  return s
}

/** RFC 9211 §2: each cache appends its member to what the caches before it wrote. */
export function appendStatus(headers: OutgoingHttpHeaders, member: string): void {
  const prev = headers['cache-status']
  headers['cache-status'] =
    prev === undefined || prev === '' ? member : `${Array.isArray(prev) ? prev.join(', ') : prev}, ${member}`
}
