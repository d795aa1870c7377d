import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { type Directives, deltaSeconds, parseCacheControl } from './directives.js'
import { headerString } from './fields.js'
import { httpDate } from './http-date.js'
import { effectiveCacheControl } from './targeted.js'

// RFC 9111 decisions for a shared cache. http-cache-semantics was evaluated first (see README, "Why not
// http-cache-semantics"): it serves fresh `must-revalidate` responses as misses, makes `proxy-revalidate`
// responses stale on arrival, ignores `Date` in the age calculation, rewrites `Date` on every hit and
// re-parses Cache-Control on every lookup. These few functions do it by the RFC and compute everything
// once, when a response is stored, so that a hit costs two comparisons.

/** Status codes that are heuristically cacheable (RFC 9110 §15.1). */
const HEURISTIC = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 451, 501])
/** Final status codes whose caching rules this cache implements (206 and 304 are not stored). */
const UNDERSTOOD = new Set([...HEURISTIC, 302, 303, 307, 400, 403, 500, 502, 503, 504])

/** What a stored response needs to be judged later without parsing it again. JSON-safe (Redis). */
export interface EntryPolicy {
  /** When the response arrived (ms since the epoch): response_time of §4.2.3. */
  responseTime: number
  /** corrected_initial_age, seconds. */
  initialAge: number
  /** Freshness lifetime, seconds (§4.2.1). */
  lifetime: number
  /** `no-cache` (unqualified): every use needs validation. */
  noCache: boolean
  /** `must-revalidate`, `proxy-revalidate` or `s-maxage`: never served stale to a `max-stale` request. */
  mustRevalidate: boolean
  /** `must-revalidate` / `proxy-revalidate` only: also overrides stale-while-revalidate / stale-if-error. */
  strict: boolean
  /** stale-while-revalidate, seconds (RFC 5861). */
  swr: number
  /** stale-if-error, seconds (RFC 5861). */
  sie: number
  /** May answer requests that carry Authorization (§3.5). */
  authOk: boolean
  etag: string | null
  lastModified: string | null
}

export interface StoreDecision {
  storable: boolean
  /** Why not (Cache-Status `detail`). */
  reason: string
  policy: EntryPolicy | null
}

export interface PolicyOptions {
  heuristicFraction: number
  shareSetCookie: boolean
  /** Route override: the freshness lifetime, as if the origin had sent `s-maxage`. */
  ttl: number | null
  /** How long (s) to keep a stale response that has validators, for revalidation. */
  keep: number
  /** Targeted cache-control fields this cache obeys over Cache-Control (RFC 9213), lower case, in order. */
  targeted: readonly string[]
}

const no = (reason: string): StoreDecision => ({ storable: false, reason, policy: null })

/**
 * §3: may a shared cache store this response to a GET, and for how long is it fresh?
 * `requestTime`/`responseTime` are ms since the epoch (§4.2.3's request_time and response_time).
 */
export function decideStorage(
  request: IncomingHttpHeaders,
  requestCC: Directives,
  statusCode: number,
  headers: OutgoingHttpHeaders,
  requestTime: number,
  responseTime: number,
  options: PolicyOptions,
): StoreDecision {
  if (requestCC['no-store'] !== undefined) return no('request-no-store')
  const control = effectiveCacheControl(headers, options.targeted)
  const cc = parseCacheControl(control.value)
  const understood = UNDERSTOOD.has(statusCode)
  // §5.2.2.3: must-understand lets a cache that understands the status ignore no-store.
  if (cc['must-understand'] !== undefined) {
    if (!understood) return no('must-understand')
  } else if (cc['no-store'] !== undefined) return no('no-store')
  // §3: the status must be understood for must-understand (above), and for 206 and 304, which are not
  // complete responses to store; any other final status may be stored given explicit freshness (below).
  if (!understood && (statusCode === 206 || statusCode === 304)) return no('status')
  if (cc.private !== undefined) return no('private')
  const vary = headerString(headers, 'vary')
  if (vary?.split(',').some((v) => v.trim() === '*')) return no('vary-star')
  const sMaxAge = deltaSeconds(cc['s-maxage'])
  const authOk = cc.public !== undefined || sMaxAge !== null || cc['must-revalidate'] !== undefined
  if (request.authorization !== undefined && !authOk) return no('authorization')
  if (headers['set-cookie'] !== undefined && !options.shareSetCookie) return no('set-cookie')

  // RFC 9213 §2.2: a targeted field in use replaces Expires too.
  const expires = control.targeted ? undefined : headerString(headers, 'expires')
  const maxAge = deltaSeconds(cc['max-age'])
  const lastModified = headerString(headers, 'last-modified') ?? null
  if (options.ttl === null && sMaxAge === null && maxAge === null && expires === undefined) {
    // §3: without explicit freshness the status must be heuristically cacheable or the response `public`.
    if (!HEURISTIC.has(statusCode) && cc.public === undefined) return no('status')
    // Nothing could make it fresh (no Last-Modified for a heuristic) and nothing to validate it with: it
    // would arrive stale and stay useless, as below, without parsing a single date to learn it.
    if (
      lastModified === null &&
      headers.etag === undefined &&
      cc['stale-while-revalidate'] === undefined &&
      cc['stale-if-error'] === undefined
    )
      return no('stale-on-arrival')
  }
  const dateMs = httpDate(headerString(headers, 'date'), responseTime) ?? responseTime
  let lifetime: number
  if (options.ttl !== null) lifetime = options.ttl
  else if (sMaxAge !== null) lifetime = sMaxAge
  else if (maxAge !== null) lifetime = maxAge
  else if (expires !== undefined) {
    // §5.3: an invalid Expires (including "0") means already expired.
    const e = httpDate(expires, responseTime)
    lifetime = e === null ? 0 : Math.max(0, (e - dateMs) / 1000)
  } else {
    const lm = httpDate(lastModified ?? undefined, responseTime)
    // §4.2.2: heuristics only for heuristically cacheable statuses (or `public`), and only without explicit
    // freshness; a fraction of the time since Last-Modified.
    lifetime =
      lm !== null && lm < dateMs && (HEURISTIC.has(statusCode) || cc.public !== undefined)
        ? Math.floor(((dateMs - lm) / 1000) * options.heuristicFraction)
        : 0
  }

  // §4.2.3 age calculation.
  const ageValue = ageField(headers.age)
  const apparentAge = Math.max(0, (responseTime - dateMs) / 1000)
  const responseDelay = Math.max(0, (responseTime - requestTime) / 1000)
  const initialAge = Math.max(apparentAge, ageValue + responseDelay)

  // §5.2.2.4: the qualified form (no-cache="field") is treated as the unqualified one, as the RFC allows.
  const noCache = cc['no-cache'] !== undefined
  const strict = cc['must-revalidate'] !== undefined || cc['proxy-revalidate'] !== undefined
  const policy: EntryPolicy = {
    responseTime,
    initialAge,
    lifetime: noCache ? 0 : lifetime,
    noCache,
    mustRevalidate: strict || sMaxAge !== null,
    strict,
    swr: deltaSeconds(cc['stale-while-revalidate']) ?? 0,
    sie: deltaSeconds(cc['stale-if-error']) ?? 0,
    authOk,
    etag: headerString(headers, 'etag') ?? null,
    lastModified,
  }
  const hasValidator = policy.etag !== null || lastModified !== null
  if (policy.lifetime - initialAge <= 0 && !hasValidator && policy.swr === 0 && policy.sie === 0)
    return no('stale-on-arrival')
  return { storable: true, reason: '', policy }
}

/**
 * §5.1: Age is a singleton, but a list (`Age: 7200, 0`, or two field lines) is read by its first member;
 * an invalid value is ignored (0). Taking the list as a whole as invalid would have made any response
 * with a repeated Age brand new.
 */
export function ageField(value: string | string[] | number | undefined): number {
  if (value === undefined) return 0
  if (typeof value === 'number') return value >= 0 && Number.isInteger(value) ? value : 0
  const first = Array.isArray(value) ? (value[0] ?? '') : value
  const comma = first.indexOf(',')
  return deltaSeconds((comma === -1 ? first : first.slice(0, comma)).replace(OWS, '')) ?? 0
}
const OWS = /^[\t ]+|[\t ]+$/g

/** Current age in seconds (§4.2.3). */
export function currentAge(p: EntryPolicy, now: number): number {
  return p.initialAge + (now - p.responseTime) / 1000
}

/** When the entry stops being fresh (ms since the epoch). */
export function staleAt(p: EntryPolicy): number {
  return p.responseTime + (p.lifetime - p.initialAge) * 1000
}

/** How long a store keeps it (ms since the epoch): stale use windows, and `keep` when it can be validated. */
export function deleteAt(p: EntryPolicy, keep: number): number {
  const validators = p.etag !== null || p.lastModified !== null
  const extra = Math.max(p.strict ? 0 : Math.max(p.swr, p.sie), validators ? keep : 0)
  return staleAt(p) + extra * 1000
}

export type Verdict =
  /** Serve it. */
  | 'fresh'
  /** Serve it stale: the client's max-stale allows it. */
  | 'stale-ok'
  /** Serve it stale and revalidate in the background (stale-while-revalidate). */
  | 'stale-revalidate'
  /** Validate with the origin first (a stale entry, or a response that needs validation). */
  | 'validate'
  /** The request's own directives refuse a stored answer that would otherwise do (fwd=request). */
  | 'request'

/** §4.2 / §4.3 with the request's directives (§5.2.1): can this entry answer now? */
export function evaluate(
  p: EntryPolicy,
  requestCC: Directives,
  pragmaNoCache: boolean,
  now: number,
): Verdict {
  const age = currentAge(p, now)
  const left = p.lifetime - age
  const fresh = left > 0 && !p.noCache
  // §5.2.1.4 and §5.4: request no-cache, or Pragma: no-cache when there is no Cache-Control.
  if (requestCC['no-cache'] !== undefined || pragmaNoCache) return fresh ? 'request' : 'validate'
  const maxAge = deltaSeconds(requestCC['max-age'])
  if (maxAge !== null && age > maxAge) return fresh ? 'request' : 'validate'
  const minFresh = deltaSeconds(requestCC['min-fresh'])
  if (minFresh !== null && left < minFresh) return fresh ? 'request' : 'validate'
  if (fresh) return 'fresh'
  if (p.noCache) return 'validate'
  const maxStale = requestCC['max-stale']
  if (maxStale !== undefined && !p.mustRevalidate) {
    const limit = maxStale === true ? Number.POSITIVE_INFINITY : (deltaSeconds(maxStale) ?? 0)
    if (-left <= limit) return 'stale-ok'
  }
  if (!p.strict && p.swr > 0 && -left <= p.swr) return 'stale-revalidate'
  return 'validate'
}

/** RFC 5861: may this stale entry answer instead of an error? */
export function staleIfErrorAllows(p: EntryPolicy, requestCC: Directives, now: number): boolean {
  if (p.strict || p.noCache) return false
  const over = currentAge(p, now) - p.lifetime
  const reqSie = deltaSeconds(requestCC['stale-if-error'])
  const window = Math.max(p.sie, reqSie ?? 0)
  return window > 0 && over <= window
}

function etagList(value: string): string[] {
  return value.split(',').map((s) => s.trim().replace(/^W\//, ''))
}

/** §4.3.2: a client's own conditional GET/HEAD against a fresh entry; true when 304 is the answer. */
export function notModified(p: EntryPolicy, request: IncomingHttpHeaders, dateHeader: string | undefined) {
  const inm = request['if-none-match']
  if (inm !== undefined) {
    if (p.etag === null) return false
    if (inm.trim() === '*') return true
    const mine = p.etag.replace(/^W\//, '')
    return etagList(inm).includes(mine)
  }
  const ims = httpDate(request['if-modified-since'])
  if (ims === null) return false
  const lm = httpDate(p.lastModified ?? dateHeader)
  return lm !== null && lm <= ims
}

/** §4.3.4: does a 304 select this stored response for update? */
export function validatorsMatch(p: EntryPolicy, headers: OutgoingHttpHeaders): boolean {
  const etag = headerString(headers, 'etag')
  if (etag !== undefined) {
    if (p.etag === null) return false
    if (!etag.startsWith('W/')) return p.etag === etag
    return p.etag.replace(/^W\//, '') === etag.slice(2)
  }
  const lm = headerString(headers, 'last-modified')
  if (lm !== undefined) return p.lastModified === lm
  return p.etag === null && p.lastModified === null
}
