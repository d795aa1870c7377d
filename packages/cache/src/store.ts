import type { IncomingHttpHeaders } from 'node:http'
import type { Writable } from 'node:stream'
import type { EntryPolicy } from './policy.js'
import { selecting } from './selecting.js'

/**
 * What a store is asked for. `url` is the primary key (`scheme://authority/path?query`, see README
 * "Cache key"); `headers` are the request's headers, against which a store selects the variant whose
 * `vary` values match (a route's extra key part arrives as the pseudo-header `:key`).
 */
export interface CacheKey {
  url: string
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>
}

/** A stored response's head and the facts needed to reuse it. JSON-safe. */
export interface CachedResponse {
  statusCode: number
  /** Lower-case names, no hop-by-hop headers and no `Age`; what a hit sends (plus Age and Cache-Status). */
  headers: Record<string, string | string[]>
  /** The selecting request-header values named by `Vary` (null = absent); null when there is no Vary. */
  vary: Record<string, string | null> | null
  /** Purge tags (from the configured tag header). */
  tags: string[]
  policy: EntryPolicy
  /** When the entry may be dropped (ms since the epoch); stores expire it by then. */
  deleteAt: number
  /** Body size in bytes. */
  size: number
}

export interface CacheEntry extends CachedResponse {
  body: Buffer
}

/**
 * A cache store, shaped like undici's `CacheStore`. `get` returns the matching variant, `null` when the URL
 * is stored but no variant matches (Cache-Status `fwd=vary-miss`) or `undefined` when the URL is unknown
 * (`fwd=uri-miss`). `createWriteStream` returns a Writable that receives the body and stores the entry on
 * `end()` (replacing a variant with the same `vary` values); it must never error into the writer:
 * `destroy()` abandons the entry, and a store abandons one that outgrows its limit by destroying the
 * stream itself (without an error), which the cache counts as "not stored". Errors from a store (Redis down) make the cache bypass, never fail.
 */
export interface CacheStore {
  get(key: CacheKey): CacheEntry | null | undefined | Promise<CacheEntry | null | undefined>
  createWriteStream(key: CacheKey, value: CachedResponse): Writable | undefined
  /**
   * Removes every variant of `url`. Returns how many entries (variants) went, when the store counts them
   * (both stores here do; `purge` reports it).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a store written to undici's shape returns nothing
  delete(key: { url: string }): void | number | Promise<void | number>
  /** Removes every URL stored with `tag` (every variant of each); returns the entries removed, as `delete`. */
  // biome-ignore lint/suspicious/noConfusingVoidType: as for delete
  deleteTag(tag: string): void | number | Promise<void | number>
  close?(): void | Promise<void>
  /**
   * Optional, for stores shared by several processes: a short exclusive lock per URL, which the cache
   * takes before it sends a cold miss upstream so that one instance fetches while the others wait for
   * its entry (collapsing across instances; within one process the cache collapses on its own). Answers a
   * token when taken, `null` while another holder has it. The lock lapses by itself after `ttlMs`.
   * All three methods or none; the conformance suite runs them.
   */
  acquire?(key: { url: string }, ttlMs: number): Promise<string | null>
  /** Frees the lock, only when `token` is still the holder's (a lapsed and retaken lock stays). */
  release?(key: { url: string }, token: string): Promise<void>
  /** Whether anyone holds the lock for the URL now. */
  locked?(key: { url: string }): Promise<boolean>
  /**
   * The largest body the store keeps, when it has such a limit: a response whose `Content-Length` exceeds
   * it is not offered to the store at all (and its Cache-Status does not say `stored`).
   */
  readonly maxEntrySize?: number
}

/**
 * A selecting header's value as compared (§4.1): field lines joined and trimmed, and the content
 * negotiation lists normalised where RFC 9110 makes the difference meaningless (`selecting.ts`).
 */
export function selectingValue(headers: CacheKey['headers'], name: string): string | null {
  return selecting(name, headers[name])
}

/** The `vary` record of a response, from its Vary names and the request that produced it. */
export function varyRecord(
  names: string[],
  headers: CacheKey['headers'],
): Record<string, string | null> | null {
  if (names.length === 0) return null
  const out: Record<string, string | null> = {}
  for (const n of names) out[n] = selectingValue(headers, n)
  return out
}

export function varyMatches(
  vary: Record<string, string | null> | null,
  headers: CacheKey['headers'],
): boolean {
  if (vary === null) return true
  for (const name in vary) if (selectingValue(headers, name) !== vary[name]) return false
  return true
}

export function sameVariant(
  a: Record<string, string | null> | null,
  b: Record<string, string | null> | null,
) {
  if (a === null || b === null) return a === b
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (a[k] !== b[k]) return false
  return true
}
