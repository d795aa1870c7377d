import { createRequire } from 'node:module'
import rateLimitPlugin from '@fastify/rate-limit'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { RateLimitOptions, RateLimitRule } from './options.js'
import { DEFAULTS } from './options.js'

export interface LimitResult {
  exceeded: boolean
  /** Seconds until the window resets (for Retry-After). */
  retryAfter: number
  max: number
}

export type Limiter = (request: FastifyRequest) => Promise<LimitResult>

type CreateRateLimit = FastifyInstance['createRateLimit']

function keyOf(rule: RateLimitRule, request: FastifyRequest): string {
  const key = rule.key ?? 'client'
  if (typeof key === 'function') return key(request)
  if (key === 'user') {
    const user = request.proxy?.access?.user
    return user == null ? `ip:${request.ip}` : `user:${user}`
  }
  if (key === 'destination') {
    const ctx = request.proxy
    return `dest:${ctx?.target?.authority ?? ctx?.host ?? ''}`
  }
  return `ip:${request.ip}`
}

interface StoreParams {
  continueExceeding?: boolean
  exponentialBackoff?: boolean
}
type RedisStoreClass = new (
  continueExceeding: boolean | undefined,
  exponentialBackoff: boolean | undefined,
  redis: unknown,
  key: string,
) => { key: string; redis: unknown }

/**
 * @fastify/rate-limit's Redis store, keyed `<nameSpace><label>|<key>`. Its own store prefixes every
 * `createRateLimit` child with the route's method and URL, which `createRateLimit` never has
 * (`proxykit:…:ratelimit:reverse:undefinedundefined-/|ip:…`); our keys already start with the limit's
 * label, so a child keeps its parent's prefix. Its Lua scripts are reused as they are.
 */
function labelledRedisStore(redis: unknown, nameSpace: string): new (params: StoreParams) => object {
  // The store is not in the package's types; the package has no `exports` map, so the file resolves.
  const RedisStore = createRequire(import.meta.url)(
    '@fastify/rate-limit/store/RedisStore.js',
  ) as RedisStoreClass
  return class LabelledRedisStore extends RedisStore {
    constructor(params: StoreParams) {
      super(params.continueExceeding, params.exponentialBackoff, redis, nameSpace)
    }
    child(params: StoreParams): object {
      return new RedisStore(params.continueExceeding, params.exponentialBackoff, this.redis, this.key)
    }
  }
}

/**
 * Limits through @fastify/rate-limit: registered once, in a scope of its own with `global: false`, so it
 * adds no hooks to anyone's routes and we call its `createRateLimit` from our one `onRequest` decision.
 * Its memory store by default, its Redis store (ioredis) when `rateLimit.redis` is given. Each limit's
 * keys are prefixed with its label, so two rules never share a counter (in Redis too).
 */
export class Limits {
  #create: CreateRateLimit | null = null
  readonly #byRule = new Map<RateLimitRule, Limiter>()

  async register(fastify: FastifyInstance, options: RateLimitOptions): Promise<void> {
    await fastify.register(async (scope) => {
      await scope.register(rateLimitPlugin, {
        global: false,
        hook: 'onRequest',
        // ioredis is an optional peer; options.ts checked that this is a client.
        ...(options.redis == null
          ? {}
          : { store: labelledRedisStore(options.redis, options.nameSpace ?? DEFAULTS.nameSpace) as any }),
        nameSpace: options.nameSpace ?? DEFAULTS.nameSpace,
        skipOnError: options.skipOnError ?? false,
      })
      this.#create = scope.createRateLimit
    })
  }

  /** The limiter for one rule/route/global limit, created once (call at registration or onRoute). */
  limiter(rule: RateLimitRule, label: string): Limiter {
    const existing = this.#byRule.get(rule)
    if (existing !== undefined) return existing
    if (this.#create === null) throw new Error('rate limits are not registered yet')
    const check = this.#create({
      max: rule.max,
      timeWindow: rule.timeWindow,
      keyGenerator: (request: FastifyRequest) => `${label}|${keyOf(rule, request)}`,
    })
    const limiter: Limiter = async (request) => {
      const r = await check(request)
      if (r.isAllowed) return { exceeded: false, retryAfter: 0, max: Number.POSITIVE_INFINITY }
      return { exceeded: r.isExceeded, retryAfter: r.ttlInSeconds, max: r.max }
    }
    this.#byRule.set(rule, limiter)
    return limiter
  }
}

/**
 * A rate-limit store outage is logged once when it starts and once when it ends, with the number of
 * requests refused meanwhile: a line (and a stack) per refused request flooded the log during a Redis outage.
 */
export class StoreOutage {
  #outage: { since: number; refused: number } | null = null

  /** A limiter's store failed: the request is refused. */
  failed(log: FastifyBaseLogger, err: unknown): void {
    if (this.#outage === null) {
      this.#outage = { since: Date.now(), refused: 0 }
      log.error(
        { err },
        'access-control: rate-limit store failed; requests under a rate limit are refused until it answers',
      )
    }
    this.#outage.refused++
  }

  /** A limiter's store answered. */
  answered(log: FastifyBaseLogger): void {
    const o = this.#outage
    if (o === null) return
    this.#outage = null
    log.warn(
      { refused: o.refused, outageMs: Date.now() - o.since },
      'access-control: rate-limit store answers again',
    )
  }
}
