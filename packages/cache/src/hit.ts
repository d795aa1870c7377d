import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import { answersThroughFastify, hookHeaders, RESPONSE_OWNED, setResponseOnReply } from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { headerString } from './fields.js'
import type { CacheMetrics } from './metrics.js'
import { currentAge, notModified } from './policy.js'
import { rangeAnswer } from './range.js'
import { hitStatus, joinedStatus } from './status.js'
import type { CacheEntry } from './store.js'

/** Headers of a 304 answered from a fresh entry (RFC 9110 §15.4.5). */
const NOT_MODIFIED_HEADERS = [
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'vary',
  'last-modified',
]
const kFlat = Symbol('flatHeaders')

/** A hit's head for one (age, ttl, why): see `#hitHead`. */
interface HitHead {
  age: number
  ttl: number
  why: string | undefined
  member: string
  out: string[]
}
const kHit = Symbol('hitHead')

type Entry = CacheEntry & { [kFlat]?: string[]; [kHit]?: HitHead }

function flatHeaders(entry: Entry, hidden: ReadonlySet<string>): string[] {
  let flat = entry[kFlat]
  if (flat !== undefined) return flat
  flat = []
  for (const name in entry.headers) {
    if (name === 'cache-status' || hidden.has(name)) continue
    const v = entry.headers[name]!
    if (Array.isArray(v)) for (const item of v) flat.push(name, item)
    else flat.push(name, v)
  }
  flat.push('content-length', String(entry.body.length))
  entry[kFlat] = flat
  return flat
}

// Fields a hit computes itself: a hook's value for them is not taken (core's rule for every answer, plus
// the hit's own Age and Cache-Status).
const HIT_OWNED: ReadonlySet<string> = new Set([...RESPONSE_OWNED, 'age', 'cache-status'])

/**
 * A hit's head with the fields the request's own hooks set (`reply.header()` before the cache answered):
 * theirs replace the stored ones of the same name, since they were made for this request. `out` itself
 * is never changed (it may be shared by other hits of the same second).
 */
function withOwnHeaders(out: string[], own: OutgoingHttpHeaders): string[] {
  let names: Set<string> | null = null
  for (const name in own) {
    if (own[name] !== undefined && !HIT_OWNED.has(name)) {
      names ??= new Set()
      names.add(name)
    }
  }
  if (names === null) return out
  const merged: string[] = []
  for (let i = 0; i < out.length; i += 2) if (!names.has(out[i]!)) merged.push(out[i]!, out[i + 1]!)
  for (const name of names) {
    const v = own[name]!
    if (Array.isArray(v)) for (const item of v) merged.push(name, String(item))
    else merged.push(name, String(v))
  }
  return merged
}

/** The head of a 304 answered from a fresh entry (RFC 9110 §15.4.5), before the hooks' headers. */
function notModifiedHead(entry: CacheEntry, age: number, member: string): string[] {
  const out: string[] = []
  for (const name of NOT_MODIFIED_HEADERS) {
    const v = entry.headers[name]
    if (v !== undefined) out.push(name, Array.isArray(v) ? v.join(', ') : v)
  }
  out.push('age', String(Math.floor(age)), 'cache-status', joinedStatus(entry, member))
  return out
}

/**
 * Answers a request from a stored entry (fresh, stale where allowed, or a collapsed miss's entry): the
 * whole entry, a 304 to a conditional request it satisfies, or a range of it, on the route's answer path.
 */
export class HitWriter {
  readonly #name: string
  readonly #metrics: CacheMetrics
  /** Stored fields not passed on (`stripTargetedCacheControl`). */
  readonly #hidden: ReadonlySet<string>

  constructor(name: string, metrics: CacheMetrics, hidden: ReadonlySet<string>) {
    this.#name = name
    this.#metrics = metrics
    this.#hidden = hidden
  }

  serve(
    request: FastifyRequest,
    reply: FastifyReply,
    headers: IncomingHttpHeaders,
    entry: CacheEntry,
    now: number,
    why?: string,
  ): void {
    const age = currentAge(entry.policy, now)
    const ttl = entry.policy.lifetime - age
    if (why !== undefined && why !== 'collapsed') this.#metrics.stale++
    this.#metrics.hits++
    const head = this.#hitHead(entry as Entry, Math.floor(age), Math.round(ttl), why)
    const member = head.member
    request.proxy.cache = member
    const conditional = headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined
    const notModifiedHit =
      conditional &&
      entry.statusCode === 200 &&
      notModified(entry.policy, headers, headerString(entry.headers, 'date'))
    if (answersThroughFastify(reply))
      this.#serveThroughFastify(reply, entry, age, member, notModifiedHit, head)
    else this.#serveRaw(request, reply, headers, entry, age, member, notModifiedHit, head)
  }

  /**
   * The fast path: after `reply.hijack()`, one `writeHead(status, flatHeaders)` and one `end(body)`, with
   * the headers the request's own hooks set (CORS, security headers …) merged in: theirs replace the
   * stored ones of the same name, as they would on any answer (read before the reply is hijacked).
   */
  #serveRaw(
    request: FastifyRequest,
    reply: FastifyReply,
    headers: IncomingHttpHeaders,
    entry: CacheEntry,
    age: number,
    member: string,
    notModifiedHit: boolean,
    head: HitHead,
  ): void {
    const res = reply.raw
    const own = hookHeaders(reply)
    reply.hijack()
    if (notModifiedHit) {
      res.writeHead(304, withOwnHeaders(notModifiedHead(entry, age, member), own))
      res.end()
      return
    }
    const method = request.raw.method
    // Range (RFC 9110 §14) only for GET: a 206 or 416 from the stored 200 (range.ts), or the whole of it.
    const ranged =
      method === 'GET' && headers.range !== undefined ? rangeAnswer(headers, entry, head.out) : null
    if (ranged !== null) {
      res.writeHead(ranged.statusCode, withOwnHeaders(ranged.headers, own))
      if (Array.isArray(ranged.body)) for (const part of ranged.body) res.write(part)
      else res.write(ranged.body)
      res.end()
      return
    }
    res.writeHead(entry.statusCode, withOwnHeaders(head.out, own))
    if (method === 'HEAD') res.end()
    else res.end(entry.body)
  }

  /**
   * The route has `onSend` hooks of the app's (@fastify/compress …): the hit goes through `reply.send` so
   * they run on it as on any answer. The stored body is what the upstream sent (the response filter
   * stores it before `onSend`), so one entry serves every encoding the hooks produce.
   */
  #serveThroughFastify(
    reply: FastifyReply,
    entry: CacheEntry,
    age: number,
    member: string,
    notModifiedHit: boolean,
    head: HitHead,
  ): void {
    const out = notModifiedHit ? notModifiedHead(entry, age, member) : head.out
    const headers: OutgoingHttpHeaders = {}
    for (let i = 0; i < out.length; i += 2) {
      const name = out[i]!
      const prev = headers[name]
      headers[name] =
        prev === undefined ? out[i + 1]! : [...(Array.isArray(prev) ? prev : [String(prev)]), out[i + 1]!]
    }
    // A hit's own length, Age and Cache-Status are never a hook's.
    const own = hookHeaders(reply)
    for (const name of HIT_OWNED) if (own[name] !== undefined) reply.removeHeader(name)
    setResponseOnReply(reply, notModifiedHit ? 304 : entry.statusCode, headers)
    if (notModifiedHit) reply.send()
    // A Buffer payload without a type would get Fastify's application/octet-stream; a stream keeps none.
    else if (headers['content-type'] !== undefined) reply.send(entry.body)
    else reply.send(Readable.from([entry.body]))
  }

  /**
   * The member and the head fields of a hit on `entry`. Age and ttl move once a second, so a hot entry's
   * head is built once a second and reused (Node only reads the array) instead of per hit: copying the
   * stored fields, formatting Age and concatenating Cache-Status is a visible share of a small hit's cost
   * (`node bench/cache.mjs instructions`).
   */
  #hitHead(entry: Entry, age: number, ttl: number, why: string | undefined): HitHead {
    const memo = entry[kHit]
    if (memo !== undefined && memo.age === age && memo.ttl === ttl && memo.why === why) return memo
    const member = hitStatus(this.#name, ttl, why)
    const out = flatHeaders(entry, this.#hidden).slice()
    out.push('age', String(age), 'cache-status', joinedStatus(entry, member))
    const head: HitHead = { age, ttl, why, member, out }
    entry[kHit] = head
    return head
  }
}
