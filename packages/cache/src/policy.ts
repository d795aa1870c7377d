import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { effectiveCacheControl } from './targeted.js'

// RFC 9111 decisions for a shared cache. http-cache-semantics was evaluated first (see README, "Why not
// http-cache-semantics"): it serves fresh `must-revalidate` responses as misses, makes `proxy-revalidate`
// responses stale on arrival, ignores `Date` in the age calculation, rewrites `Date` on every hit and
// re-parses Cache-Control on every lookup. These few functions do it by the RFC and compute everything
// once, when a response is stored, so that a hit costs two comparisons.

/** Cache-Control directives: lower-case names; `true` for a directive without a value. */
export type Directives = Record<string, string | true>

export function parseCacheControl(value: string | string[] | number | undefined): Directives {
  const out: Directives = {}
  if (value === undefined) return out
  const joined = Array.isArray(value) ? value.join(',') : String(value)
  for (const part of joined.split(',')) {
    const eq = part.indexOf('=')
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (name === '') continue
    let v: string | true = eq === -1 ? true : part.slice(eq + 1).trim()
    if (typeof v === 'string' && v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
    // §4.2.1: a directive repeated with another value is invalid; we keep the smallest delta-seconds,
    // which errs towards staleness as the RFC encourages.
    const prev = out[name]
    if (prev !== undefined && typeof prev === 'string' && typeof v === 'string') {
      const a = Number.parseInt(prev, 10)
      const b = Number.parseInt(v, 10)
      if (Number.isFinite(a) && Number.isFinite(b)) v = String(Math.min(a, b))
    }
    out[name] = v
  }
  return out
}

/** delta-seconds (§1.2.2): a non-negative integer; anything else is invalid (null). */
export function deltaSeconds(v: string | true | undefined): number | null {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return null
  return Math.min(Number(v), 2 ** 31)
}

function header(h: OutgoingHttpHeaders | IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name]
  if (v === undefined) return undefined
  return Array.isArray(v) ? v.join(', ') : String(v)
}

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec'
const DAY_NAMES = 'MonTueWedThuFriSatSun'
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function digits(v: string, at: number, count: number): number {
  let n = 0
  for (let i = at; i < at + count; i++) {
    const c = v.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

/** `Jan`..`Dec` at `at` (case-sensitive, as RFC 9110's ABNF has it): 0-11, or -1. */
function month(v: string, at: number): number {
  const m = MONTHS.indexOf(v.slice(at, at + 3))
  return m >= 0 && m % 3 === 0 ? m / 3 : -1
}

/** `hh:mm:ss` at `at` (00:00:00 to 23:59:60, a leap second allowed): seconds into the day, or -1. */
function timeOfDay(v: string, at: number): number {
  if (v.charCodeAt(at + 2) !== 58 || v.charCodeAt(at + 5) !== 58) return -1
  const h = digits(v, at, 2)
  const m = digits(v, at + 3, 2)
  const s = digits(v, at + 6, 2)
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60) return -1
  return h * 3600 + m * 60 + s
}

function utc(year: number, m: number, day: number, seconds: number): number | null {
  if (m < 0 || seconds < 0 || year < 0) return null
  const leap = m === 1 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day < 1 || day > DAYS_IN_MONTH[m]! + (leap ? 1 : 0)) return null
  if (year >= 100) return Date.UTC(year, m, day) + seconds * 1000
  // Date.UTC reads years 0-99 as 1900-1999.
  const d = new Date(0)
  d.setUTCFullYear(year, m, day)
  return d.getTime() + seconds * 1000
}

// rfc850-date's day-name-l: the full day names, each followed by ", ".
const RFC850 =
  /^(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, (\d\d)-([A-Z][a-z][a-z])-(\d\d) (\d\d:\d\d:\d\d) GMT$/
// asctime-date: `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space).
const ASCTIME = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z][a-z]) ([ \d]\d) (\d\d:\d\d:\d\d) (\d{4})$/

/**
 * RFC 9110 §5.6.7: a two-digit year that would be more than 50 years in the future is the most recent
 * past year with the same last two digits (so in 2026, `94` is 1994 and `30` is 2030).
 */
function twoDigitYear(yy: number, now: number): number {
  const current = new Date(now).getUTCFullYear()
  let year = current - (current % 100) + yy
  if (year > current + 50) year -= 100
  else if (year <= current - 50) year += 100
  return year
}

/**
 * An HTTP-date (RFC 9110 §5.6.7) in ms since the epoch, or null: exactly the three forms of its ABNF,
 * IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, what servers send, read field by field: `Date.parse` is
 * general and slow, `node bench/cache.mjs instructions`), the obsolete RFC 850 and asctime forms,
 * with day, month and time checked. Anything else is not a date: RFC 9111 §5.3 makes an invalid
 * `Expires` "already expired", which `Date.parse` (reading ISO 8601, numeric zones, a lone `0` …) would
 * have turned into any instant at all. `now` places a two-digit RFC 850 year.
 */
export function httpDate(v: string | undefined, now: number = Date.now()): number | null {
  if (v === undefined) return null
  if (v.length === 29) {
    // IMF-fixdate = day-name "," SP 2DIGIT SP month SP 4DIGIT SP hh:mm:ss SP "GMT"
    const d = DAY_NAMES.indexOf(v.slice(0, 3))
    if (
      d < 0 ||
      d % 3 !== 0 ||
      v.charCodeAt(3) !== 44 /* , */ ||
      v.charCodeAt(4) !== 32 ||
      v.charCodeAt(7) !== 32 ||
      v.charCodeAt(11) !== 32 ||
      v.charCodeAt(16) !== 32 ||
      !v.endsWith(' GMT')
    )
      return null
    return utc(digits(v, 12, 4), month(v, 8), digits(v, 5, 2), timeOfDay(v, 17))
  }
  let m = RFC850.exec(v)
  if (m !== null)
    return utc(twoDigitYear(Number(m[3]), now), month(m[2]!, 0), Number(m[1]), timeOfDay(m[4]!, 0))
  m = ASCTIME.exec(v)
  if (m !== null) {
    return utc(Number(m[4]), month(m[1]!, 0), Number(m[2]!.trim()), timeOfDay(m[3]!, 0))
  }
  return null
}

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
  const vary = header(headers, 'vary')
  if (vary?.split(',').some((v) => v.trim() === '*')) return no('vary-star')
  const sMaxAge = deltaSeconds(cc['s-maxage'])
  const authOk = cc.public !== undefined || sMaxAge !== null || cc['must-revalidate'] !== undefined
  if (request.authorization !== undefined && !authOk) return no('authorization')
  if (headers['set-cookie'] !== undefined && !options.shareSetCookie) return no('set-cookie')

  // RFC 9213 §2.2: a targeted field in use replaces Expires too.
  const expires = control.targeted ? undefined : header(headers, 'expires')
  const maxAge = deltaSeconds(cc['max-age'])
  const lastModified = header(headers, 'last-modified') ?? null
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
  const dateMs = httpDate(header(headers, 'date'), responseTime) ?? responseTime
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
    etag: header(headers, 'etag') ?? null,
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
  const etag = header(headers, 'etag')
  if (etag !== undefined) {
    if (p.etag === null) return false
    if (!etag.startsWith('W/')) return p.etag === etag
    return p.etag.replace(/^W\//, '') === etag.slice(2)
  }
  const lm = header(headers, 'last-modified')
  if (lm !== undefined) return p.lastModified === lm
  return p.etag === null && p.lastModified === null
}

/** Request directives, with §5.4 Pragma handling. */
export function requestDirectives(headers: IncomingHttpHeaders): { cc: Directives; pragmaNoCache: boolean } {
  const raw = headers['cache-control']
  if (raw === undefined) {
    const pragma = headers.pragma
    return { cc: EMPTY, pragmaNoCache: pragma !== undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(pragma) }
  }
  return { cc: parseCacheControl(raw), pragmaNoCache: false }
}

const EMPTY: Directives = Object.freeze({}) as Directives
