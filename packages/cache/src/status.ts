import type { OutgoingHttpHeaders } from 'node:http'
import type { CacheEntry } from './store.js'

/** The `fwd` values of RFC 9211 this cache uses. */
export type Forward = 'bypass' | 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale'

/** Cache-Status member for a hit: `name; hit; ttl=N` (ttl negative when served stale). */
export function hitStatus(name: string, ttl: number, detail?: string): string {
  const base = `${name}; hit; ttl=${Math.round(ttl)}`
  return detail === undefined ? base : `${base}; detail=${detail}`
}

/**
 * `forwardStatus` for an answer that was not stored, remembered: nearly every miss on a server is one of a
 * few (fwd, status, detail) shapes, and building the member anew cost string concatenation and flattening
 * on every miss. Bounded: past `max` shapes it builds without remembering.
 */
export class ForwardStatusMemo {
  readonly #name: string
  readonly #max: number
  #size = 0
  readonly #byFwd = new Map<Forward, Map<number | null, Map<string | undefined, string>>>()

  constructor(name: string, max = 512) {
    this.#name = name
    this.#max = max
  }

  get(fwd: Forward, status: number | null, detail?: string): string {
    let byStatus = this.#byFwd.get(fwd)
    const byDetail = byStatus?.get(status)
    const known = byDetail?.get(detail)
    if (known !== undefined) return known
    const member = forwardStatus(this.#name, fwd, status, false, null, detail)
    if (this.#size >= this.#max) return member
    this.#size++
    if (byStatus === undefined) {
      byStatus = new Map()
      this.#byFwd.set(fwd, byStatus)
    }
    if (byDetail === undefined) byStatus.set(status, new Map([[detail, member]]))
    else byDetail.set(detail, member)
    return member
  }
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

/** The Cache-Status of an answer from `entry`: what the caches before this one wrote, then `member`. */
export function joinedStatus(entry: CacheEntry, member: string): string {
  const prev = entry.headers['cache-status']
  return prev === undefined ? member : `${Array.isArray(prev) ? prev.join(', ') : prev}, ${member}`
}
