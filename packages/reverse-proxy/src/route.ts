import type { FastifyRequest } from 'fastify'
import { type Balancer, createBalancer } from './balancers/index.js'
import { HealthChecker } from './health.js'
import type { ResolvedRoute, UpstreamOption } from './options.js'
import { RetryBudget } from './retry-budget.js'
import { Upstream, type UpstreamEvent } from './upstream.js'

type KeyFn = (request: FastifyRequest) => string

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** How the sticky key is read; a request without the header or cookie falls back to its client IP. */
function keyFunction(hashOn: string): KeyFn {
  if (hashOn === 'path') {
    return (r) => {
      const url = r.raw.url ?? '/'
      const q = url.indexOf('?')
      return q === -1 ? url : url.slice(0, q)
    }
  }
  if (hashOn.startsWith('header:')) {
    const name = hashOn.slice(7).toLowerCase()
    return (r) => {
      const v = r.headers[name]
      return v === undefined ? r.ip : Array.isArray(v) ? v.join(',') : v
    }
  }
  if (hashOn.startsWith('cookie:')) {
    const name = hashOn.slice(7)
    return (r) => cookieValue(r.headers.cookie, name) ?? r.ip
  }
  return (r) => r.ip
}

// Origins a `getUpstream` hook named outside the group, each with its own pool, kept for reuse; bounded
// because the hook may derive them from the request.
const MAX_OTHER_ORIGINS = 64

/** One configured route at run time: its upstream group, balancer, retry budget and health checker. */
export class ProxyRoute {
  readonly options: ResolvedRoute
  upstreams: Upstream[] = []
  readonly balancer: Balancer
  readonly budget: RetryBudget | null
  readonly health: HealthChecker | null
  private readonly key: KeyFn | null
  private readonly others = new Map<string, Upstream>()

  private readonly onEvent: (route: ProxyRoute, u: Upstream, event: UpstreamEvent) => void

  constructor(
    options: ResolvedRoute,
    onEvent: (route: ProxyRoute, u: Upstream, event: UpstreamEvent) => void,
  ) {
    this.options = options
    this.onEvent = onEvent
    this.balancer = createBalancer(options.balancer)
    this.budget = options.retries === false ? null : new RetryBudget(options.retries)
    this.key = options.balancer === 'consistent-hash' ? keyFunction(options.hashOn) : null
    this.health =
      options.healthCheck === false
        ? null
        : new HealthChecker(
            options.healthCheck,
            () => this.upstreams,
            (u, event) => onEvent(this, u, event),
          )
    for (const u of options.upstreams) this.add(u)
  }

  find(url: string): Upstream | undefined {
    const origin = new URL(url).origin
    return this.upstreams.find((u) => u.url === origin)
  }

  add(option: UpstreamOption): Upstream {
    const u = new Upstream(option.url, option.weight ?? 1, this.options)
    // A copy, so a pick in progress never sees the list change under it.
    this.upstreams = [...this.upstreams, u]
    // Added at run time: checked at once rather than after a whole interval.
    if (this.health?.started === true) void this.health.check(u)
    return u
  }

  /** The upstream for an origin `getUpstream` returned: the group's own, or a pool kept for that origin. */
  byOrigin(origin: string): Upstream {
    const own = this.upstreams.find((u) => u.url === origin)
    if (own !== undefined) return own
    let other = this.others.get(origin)
    if (other === undefined) {
      if (this.others.size >= MAX_OTHER_ORIGINS) {
        const [oldest, u] = this.others.entries().next().value!
        this.others.delete(oldest)
        void u.close()
      }
      other = new Upstream(origin, 1, this.options)
      this.others.set(origin, other)
    }
    return other
  }

  remove(u: Upstream): void {
    this.upstreams = this.upstreams.filter((x) => x !== u)
  }

  /**
   * A balanced pick among available upstreams not in `exclude`. With none available, an upstream that is
   * only passively ejected (its active checks pass, it is not draining) is tried rather than refusing the
   * request: an ejection is a hint to prefer the others, and there are none. Null when none is left.
   */
  pick(request: FastifyRequest, exclude: readonly Upstream[]): Upstream | null {
    const all = this.upstreams
    const now = Date.now()
    let candidates: Upstream[] = all
    for (let i = 0; i < all.length; i++) {
      const u = all[i]!
      if (!u.available(now) || (exclude.length !== 0 && exclude.includes(u))) {
        // Only build a filtered list when something is out: the common case allocates nothing.
        candidates = all.filter((x) => x.available(now) && !exclude.includes(x))
        break
      }
    }
    if (candidates.length === 0 && !all.some((x) => x.available(now)))
      candidates = all.filter((x) => x.healthy && !x.draining && !exclude.includes(x))
    if (candidates.length === 0) return null
    return this.balancer.pick({ candidates, key: this.key === null ? '' : this.key(request) })
  }

  /**
   * Passive health: request `seq` (begin's number) on `u` failed, or answered `status` (counted as a
   * failure when the route lists it in `passiveHealth.statuses`). The last available upstream of the
   * route is never ejected.
   */
  outcome(u: Upstream, seq: number, status: number | null): void {
    const passive = this.options.passiveHealth
    if (status !== null && (passive === false || !passive.statuses.includes(status))) {
      const since = u.ejectedSince
      if (u.recordSuccess())
        this.onEvent(this, u, { kind: 'returned', by: 'success', outMs: Date.now() - since })
      return
    }
    const now = Date.now()
    const last = !this.upstreams.some((x) => x !== u && x.available(now))
    if (u.recordFailure(passive, now, seq, last))
      this.onEvent(this, u, { kind: 'ejected', forMs: u.ejectedUntil - now, ejections: u.ejections })
  }

  /** Seconds until an upstream may be back, for Retry-After when none is available. */
  retryAfter(): number {
    const now = Date.now()
    let soonest = Infinity
    for (const u of this.upstreams) {
      if (u.draining) continue
      let s = 0
      if (u.ejectedUntil > now) s = (u.ejectedUntil - now) / 1000
      if (!u.healthy && this.options.healthCheck !== false)
        s = Math.max(s, (this.options.healthCheck.intervalMs * this.options.healthCheck.rise) / 1000)
      soonest = Math.min(soonest, s)
    }
    return Number.isFinite(soonest) ? Math.max(1, Math.ceil(soonest)) : 5
  }

  async close(): Promise<void> {
    this.health?.stop()
    await Promise.all([...this.upstreams, ...this.others.values()].map((u) => u.destroy()))
  }
}
