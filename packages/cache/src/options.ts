import { optionChecks } from '@proxykit/core'
import type { FastifyRequest } from 'fastify'
import type { CacheStore } from './store.js'
import { defaultMaxEntrySize, MEMORY_DEFAULTS, SIZE_LIMITS, sizeProblem } from './stores/memory.js'

export interface CacheOptions {
  /** Where entries live. Default: a `MemoryStore` with `maxSize` and `maxEntrySize`. */
  store?: CacheStore
  /** The default memory store's total size in bytes (64 MiB). Ignored with `store`. */
  maxSize?: number
  /**
   * The default memory store's largest entry in bytes: 8 MiB, or an eighth of a `maxSize` under 64 MiB.
   * Ignored with `store`.
   */
  maxEntrySize?: number
  /** Heuristic freshness: this fraction of the time since Last-Modified (RFC 9111 §4.2.2; 0.1). */
  heuristicFraction?: number
  /** Seconds a stale entry that has a validator is kept for conditional revalidation (600). */
  keep?: number
  /** Store and share responses that carry Set-Cookie (false: RFC 9111 allows it, but it leaks sessions). */
  shareSetCookie?: boolean
  /** Response header whose comma-separated values tag an entry for `purge({ tag })` (`cache-tag`); false: none. */
  tagHeader?: string | false
  /** The cache's name in `Cache-Status` (RFC 9211; `proxykit`). */
  name?: string
  /** Collapse concurrent misses for one URL into one upstream request (true). */
  collapse?: boolean
  /** Longest a collapsed request waits for the leader before going upstream itself, ms (10000). */
  collapseTimeout?: number
  /** Revalidate in the background for `stale-while-revalidate` (true). */
  backgroundRevalidate?: boolean
  /**
   * Targeted cache-control fields (RFC 9213) this cache obeys over Cache-Control and Expires, the first
   * one present and valid winning: e.g. `'CDN-Cache-Control'`, or `['Acme-CDN-Cache-Control',
   * 'CDN-Cache-Control']`. `false` (the default): none, Cache-Control alone.
   */
  targetedCacheControl?: string | readonly string[] | false
  /** Remove those targeted fields from the responses this cache passes on (false: they go downstream). */
  stripTargetedCacheControl?: boolean
}

/** Per-route `config.cache`: `false` bypasses the cache for the route. */
export type RouteCacheConfig =
  | false
  | {
      /** Freshness lifetime in seconds, replacing what the response says (as `s-maxage` would). */
      ttl?: number
      /** An extra cache-key part (a string, or computed per request), e.g. a tenant id. */
      key?: string | ((request: FastifyRequest) => string)
    }

export interface NormalizedRoute {
  ttl: number | null
  key: ((request: FastifyRequest) => string) | null
}

export const DEFAULTS = {
  maxSize: MEMORY_DEFAULTS.maxSize,
  maxEntrySize: MEMORY_DEFAULTS.maxEntrySize,
  heuristicFraction: 0.1,
  keep: 600,
  shareSetCookie: false,
  tagHeader: 'cache-tag' as string | false,
  name: 'proxykit',
  collapse: true,
  collapseTimeout: 10_000,
  backgroundRevalidate: true,
  targetedCacheControl: false as string | readonly string[] | false,
  stripTargetedCacheControl: false,
}

export type ResolvedOptions = Required<Omit<CacheOptions, 'store'>> & {
  store: CacheStore | undefined
  /** `targetedCacheControl` as lower-case names (empty: none). */
  targeted: string[]
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

const check = optionChecks('@proxykit/cache')
const { invalid } = check

function positiveInt(name: string, v: unknown): number {
  if (v === undefined) throw invalid(name, 'must be a positive integer, got undefined')
  return check.integer(v, name, 0, 1, `must be a positive integer, got ${String(v)}`)
}

function bool(name: string, v: unknown): boolean {
  if (v === undefined) throw invalid(name, 'must be a boolean')
  return check.boolean(v, name, false)
}

/** `sizeProblem`'s sentence without the option's name, which the error already carries. */
function sizeRule(name: string, value: unknown, max: number): string | null {
  return sizeProblem(name, value, max)?.slice(name.length + 1) ?? null
}

export function resolveOptions(opts: CacheOptions): ResolvedOptions {
  const o = { ...DEFAULTS, ...opts }
  const sizeWrong = sizeRule('maxSize', o.maxSize, SIZE_LIMITS.maxSize)
  if (sizeWrong !== null) throw invalid('maxSize', sizeWrong)
  if (opts.maxEntrySize === undefined) o.maxEntrySize = defaultMaxEntrySize(o.maxSize)
  const entryWrong = sizeRule('maxEntrySize', o.maxEntrySize, SIZE_LIMITS.maxEntrySize)
  if (entryWrong !== null) throw invalid('maxEntrySize', entryWrong)
  if (o.maxEntrySize > o.maxSize)
    throw invalid(
      'maxEntrySize',
      `${o.maxEntrySize} must not exceed maxSize (${o.maxSize}${opts.maxSize === undefined ? ', the default' : ''})`,
    )
  if (!(typeof o.heuristicFraction === 'number' && o.heuristicFraction >= 0 && o.heuristicFraction <= 1))
    throw invalid('heuristicFraction', 'must be a number from 0 to 1')
  if (!(typeof o.keep === 'number' && Number.isInteger(o.keep) && o.keep >= 0))
    throw invalid('keep', 'must be a non-negative integer (seconds)')
  bool('shareSetCookie', o.shareSetCookie)
  bool('collapse', o.collapse)
  bool('backgroundRevalidate', o.backgroundRevalidate)
  positiveInt('collapseTimeout', o.collapseTimeout)
  if (o.tagHeader !== false && !(typeof o.tagHeader === 'string' && TOKEN.test(o.tagHeader)))
    throw invalid('tagHeader', 'must be a header name or false')
  if (!(typeof o.name === 'string' && TOKEN.test(o.name)))
    throw invalid('name', 'must be a token (letters, digits, -._~ …)')
  bool('stripTargetedCacheControl', o.stripTargetedCacheControl)
  const targetedList =
    o.targetedCacheControl === false
      ? []
      : typeof o.targetedCacheControl === 'string'
        ? [o.targetedCacheControl]
        : o.targetedCacheControl
  if (
    !Array.isArray(targetedList) ||
    (o.targetedCacheControl !== false && targetedList.length === 0) ||
    !targetedList.every((n) => typeof n === 'string' && TOKEN.test(n) && n.toLowerCase() !== 'cache-control')
  )
    throw invalid(
      'targetedCacheControl',
      'must be false, a header name or a non-empty list of header names (not Cache-Control)',
    )
  const store = opts.store
  if (
    store !== undefined &&
    (typeof store !== 'object' ||
      store === null ||
      typeof store.get !== 'function' ||
      typeof store.createWriteStream !== 'function' ||
      typeof store.delete !== 'function' ||
      typeof store.deleteTag !== 'function')
  )
    throw invalid('store', 'must implement get, createWriteStream, delete and deleteTag')
  return {
    ...o,
    tagHeader: o.tagHeader === false ? false : o.tagHeader.toLowerCase(),
    store,
    targeted: targetedList.map((n: string) => n.toLowerCase()),
  }
}

/** Validates a route's `config.cache` (at route registration, through onRoute). */
export function normalizeRoute(value: unknown, route: string): NormalizedRoute | false {
  if (value === false) return false
  if (value === undefined || value === null) return { ttl: null, key: null }
  if (typeof value !== 'object') throw invalid(`route ${route}: config.cache`, 'must be false or an object')
  const { ttl, key, ...rest } = value as { ttl?: unknown; key?: unknown }
  const unknown = Object.keys(rest)
  if (unknown.length > 0) throw invalid(`route ${route}: config.cache`, `has unknown option ${unknown[0]}`)
  if (ttl !== undefined && !(typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 0))
    throw invalid(`route ${route}: config.cache.ttl`, 'must be a non-negative integer')
  let keyFn: NormalizedRoute['key'] = null
  if (typeof key === 'string') keyFn = () => key
  else if (typeof key === 'function') keyFn = key as (request: FastifyRequest) => string
  else if (key !== undefined)
    throw invalid(`route ${route}: config.cache.key`, 'must be a string or a function')
  return { ttl: ttl ?? null, key: keyFn }
}
