import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'

export type ListenerName = 'forward' | 'reverse' | 'admin' | 'redirect'

/** One upstream as the reverse proxy reports it, for the health and in-flight gauges. */
export interface UpstreamSample {
  route: string
  url: string
  healthy: boolean
  inFlight: number
}

/** A listener's cache counters, as @proxykit/cache's `fastify.proxyCache.metrics()` reports them. */
export interface CacheSample {
  listener: string
  hits: number
  misses: number
  stale: number
  stores: number
  storedBytes: number
  bypass: number
}

/** `base` plus the cache counters `m` (a retired generation's totals carried into the live ones). */
export function addCacheCounters(
  base: CacheSample | undefined,
  listener: string,
  m: Omit<CacheSample, 'listener'>,
): CacheSample {
  return {
    listener,
    hits: (base?.hits ?? 0) + m.hits,
    misses: (base?.misses ?? 0) + m.misses,
    stale: (base?.stale ?? 0) + m.stale,
    stores: (base?.stores ?? 0) + m.stores,
    storedBytes: (base?.storedBytes ?? 0) + m.storedBytes,
    bypass: (base?.bypass ?? 0) + m.bypass,
  }
}

/** Where metrics read their values at scrape time; the listeners fill these in from the plugins. */
export interface MetricSources {
  upstreams?: () => UpstreamSample[]
  caches?: () => CacheSample[]
  cacheBytes?: () => number
  cacheEntries?: () => number
  /** CONNECT tunnels established and still open. */
  tunnels?: () => number
  /** With `redis`: 1 while Redis answers every key, 0 while it is degraded (down, failing over). */
  redisUp?: () => number
}

type LabelValue = string | number

/** What prom-client's registry reads from a metric: `get()` at scrape time, in its JSON shape. */
interface ScrapedValue {
  labels: Record<string, LabelValue>
  value: number
  metricName?: string
}

/**
 * A counter whose per-request update allocates nothing: values sit in nested Maps keyed by each label's
 * value in turn (a route name, a status number), where prom-client's `inc(labels)` builds a sorted-key
 * string per call. prom-client's registry reads it through `get()`, at scrape time only.
 */
export class FastCounter<L extends string> {
  readonly type = 'counter'
  readonly aggregator = 'sum'
  readonly #root = new Map<LabelValue, unknown>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    if (labelNames.length < 1 || labelNames.length > 3) throw new Error('FastCounter takes 1 to 3 labels')
    registry.registerMetric(this as never)
  }

  #child(map: Map<LabelValue, unknown>, key: LabelValue): Map<LabelValue, unknown> {
    let next = map.get(key) as Map<LabelValue, unknown> | undefined
    if (next === undefined) {
      next = new Map()
      map.set(key, next)
    }
    return next
  }

  #bump(map: Map<LabelValue, unknown>, key: LabelValue, n: number): void {
    map.set(key, ((map.get(key) as number | undefined) ?? 0) + n)
  }

  /** Adds `n` to the series of a one-label counter. */
  add1(a: LabelValue, n = 1): void {
    this.#bump(this.#root, a, n)
  }

  /** Adds `n` to the series of a two-label counter (label values in `labelNames` order). */
  add2(a: LabelValue, b: LabelValue, n = 1): void {
    this.#bump(this.#child(this.#root, a), b, n)
  }

  /** Adds `n` to the series of a three-label counter (label values in `labelNames` order). */
  add3(a: LabelValue, b: LabelValue, c: LabelValue, n = 1): void {
    this.#bump(this.#child(this.#child(this.#root, a), b), c, n)
  }

  /** prom-client's signature, for callers off the per-request path. */
  inc(labels: Partial<Record<L, LabelValue>>, n = 1): void {
    const v = this.labelNames.map((l) => labels[l] ?? '')
    if (v.length === 1) this.add1(v[0]!, n)
    else if (v.length === 2) this.add2(v[0]!, v[1]!, n)
    else this.add3(v[0]!, v[1]!, v[2]!, n)
  }

  async get() {
    const values: ScrapedValue[] = []
    const walk = (map: Map<LabelValue, unknown>, depth: number, labels: Record<string, LabelValue>) => {
      for (const [k, v] of map) {
        const l = { ...labels, [this.labelNames[depth]!]: k }
        if (depth === this.labelNames.length - 1) values.push({ labels: l, value: v as number })
        else walk(v as Map<LabelValue, unknown>, depth + 1, l)
      }
    }
    walk(this.#root, 0, {})
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}

/** One listener and route's request latencies: preallocated bucket counts (not cumulative), sum, count. */
export class LatencyBuckets {
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length)
  }

  observe(seconds: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && seconds > bounds[i]!) i++
    if (i < bounds.length) this.counts[i]!++
    this.sum += seconds
    this.count++
  }
}

/** A histogram by listener and route over preallocated buckets, read by prom-client at scrape time. */
export class FastHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #series = new Map<string, Map<string, LatencyBuckets>>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never)
  }

  /** The buckets of one listener and route (look it up once per request, or keep it). */
  series(listener: string, route: string): LatencyBuckets {
    let routes = this.#series.get(listener)
    if (routes === undefined) {
      routes = new Map()
      this.#series.set(listener, routes)
    }
    let b = routes.get(route)
    if (b === undefined) {
      b = new LatencyBuckets(this.bounds)
      routes.set(route, b)
    }
    return b
  }

  /** prom-client's signature, for callers off the per-request path. */
  observe(labels: { listener: string; route: string }, seconds: number): void {
    this.series(labels.listener, labels.route).observe(seconds)
  }

  async get() {
    const values: ScrapedValue[] = []
    for (const [listener, routes] of this.#series) {
      for (const [route, b] of routes) {
        let acc = 0
        for (let i = 0; i < this.bounds.length; i++) {
          acc += b.counts[i]!
          values.push({
            labels: { le: this.bounds[i]!, listener, route },
            value: acc,
            metricName: `${this.name}_bucket`,
          })
        }
        values.push({
          labels: { le: '+Inf', listener, route },
          value: b.count,
          metricName: `${this.name}_bucket`,
        })
        values.push({ labels: { listener, route }, value: b.sum, metricName: `${this.name}_sum` })
        values.push({ labels: { listener, route }, value: b.count, metricName: `${this.name}_count` })
      }
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}

/**
 * The gateway's Prometheus metrics, in a registry of their own (prom-client's global one is left alone
 * so that two gateways in one process, as in tests, do not collide).
 */
export class GatewayMetrics {
  readonly registry = new Registry()
  readonly sources: MetricSources = {}
  readonly requests: FastCounter<'listener' | 'route' | 'status'>
  readonly protocols: FastCounter<'listener' | 'protocol'>
  readonly duration: FastHistogram
  readonly tunnels: Gauge
  readonly tunnelsTotal: Counter
  readonly denials: FastCounter<'listener' | 'rule'>
  readonly rateLimited: FastCounter<'listener' | 'route'>
  readonly upstreamAttempts: FastCounter<'route' | 'upstream'>

  constructor() {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'proxykit_' })
    // Updated on every request: allocation-free (see FastCounter), read only when scraped.
    this.requests = new FastCounter(
      'proxykit_requests_total',
      'Requests answered, by listener, route and status code.',
      ['listener', 'route', 'status'],
      this.registry,
    )
    // Its own counter rather than a label on requests_total: the series people already query keep their
    // labels, and the protocol split needs no route or status.
    this.protocols = new FastCounter(
      'proxykit_requests_by_protocol_total',
      'Requests answered, by listener and HTTP version the client spoke (HTTP/1.1, HTTP/2).',
      ['listener', 'protocol'],
      this.registry,
    )
    this.duration = new FastHistogram(
      'proxykit_request_duration_seconds',
      'Time from the request arriving to the response finishing.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      this.registry,
    )
    const sources = this.sources
    new Counter({
      name: 'proxykit_cache_requests_total',
      help: 'Cache lookups by listener and result: hit, stale (served stale), miss, bypass.',
      labelNames: ['listener', 'result'],
      registers,
      collect() {
        this.reset()
        for (const c of sources.caches?.() ?? []) {
          // @proxykit/cache counts stale answers among its hits.
          this.inc({ listener: c.listener, result: 'hit' }, c.hits - c.stale)
          this.inc({ listener: c.listener, result: 'stale' }, c.stale)
          this.inc({ listener: c.listener, result: 'miss' }, c.misses)
          this.inc({ listener: c.listener, result: 'bypass' }, c.bypass)
        }
      },
    })
    new Counter({
      name: 'proxykit_cache_stores_total',
      help: 'Responses written to the cache, by listener.',
      labelNames: ['listener'],
      registers,
      collect() {
        this.reset()
        for (const c of sources.caches?.() ?? []) this.inc({ listener: c.listener }, c.stores)
      },
    })
    new Counter({
      name: 'proxykit_cache_stored_bytes_total',
      help: 'Body bytes written to the cache, by listener.',
      labelNames: ['listener'],
      registers,
      collect() {
        this.reset()
        for (const c of sources.caches?.() ?? []) this.inc({ listener: c.listener }, c.storedBytes)
      },
    })
    new Gauge({
      name: 'proxykit_cache_bytes',
      help: 'Bytes held by the cache store (when the store reports it).',
      registers,
      collect() {
        if (sources.cacheBytes) this.set(sources.cacheBytes())
      },
    })
    new Gauge({
      name: 'proxykit_cache_entries',
      help: 'Entries held by the cache store (when the store reports it).',
      registers,
      collect() {
        if (sources.cacheEntries) this.set(sources.cacheEntries())
      },
    })
    new Gauge({
      name: 'proxykit_redis_up',
      help: 'With redis: 1 while Redis answers every key, 0 while it is degraded (unreachable, a primary down or failing over); the gateway keeps serving meanwhile.',
      registers,
      // With workers: degraded when any worker sees it so.
      aggregator: 'min',
      collect() {
        if (sources.redisUp) this.set(sources.redisUp())
      },
    })
    this.tunnels = new Gauge({
      name: 'proxykit_tunnels_open',
      help: 'CONNECT tunnels open now.',
      registers,
      collect() {
        if (sources.tunnels) this.set(sources.tunnels())
      },
    })
    this.tunnelsTotal = new Counter({
      name: 'proxykit_tunnels_total',
      help: 'CONNECT tunnels established.',
      registers,
    })
    this.denials = new FastCounter(
      'proxykit_access_denials_total',
      'Requests refused by access control (401, 403, 407), by listener and rule.',
      ['listener', 'rule'],
      this.registry,
    )
    this.rateLimited = new FastCounter(
      'proxykit_rate_limited_total',
      'Requests refused by a rate limit (429).',
      ['listener', 'route'],
      this.registry,
    )
    this.upstreamAttempts = new FastCounter(
      'proxykit_upstream_responses_total',
      'Responses received from upstreams, by route and upstream.',
      ['route', 'upstream'],
      this.registry,
    )
    new Gauge({
      name: 'proxykit_upstream_healthy',
      help: '1 when the upstream is taking traffic, 0 when it is down or draining.',
      labelNames: ['route', 'upstream'],
      registers,
      collect() {
        this.reset()
        for (const u of sources.upstreams?.() ?? [])
          this.set({ route: u.route, upstream: u.url }, u.healthy ? 1 : 0)
      },
    })
    new Gauge({
      name: 'proxykit_upstream_in_flight',
      help: 'Requests in flight to the upstream.',
      labelNames: ['route', 'upstream'],
      registers,
      collect() {
        this.reset()
        for (const u of sources.upstreams?.() ?? []) this.set({ route: u.route, upstream: u.url }, u.inFlight)
      },
    })
  }
}
