import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { FastCounter, FastHistogram } from './fast-metrics.js'

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

/**
 * The gateway's Prometheus metrics, in a registry of their own (prom-client's global one is left alone
 * so that two gateways in one process, as in tests, do not collide).
 */
export class GatewayMetrics {
  readonly registry = new Registry()
  readonly sources: MetricSources = {}
  // Updated on every request: allocation-free (see FastCounter), read only when scraped.
  readonly requests: FastCounter<'listener' | 'route' | 'status'>
  // Its own counter rather than a label on requests_total: the series people already query keep their
  // labels, and the protocol split needs no route or status.
  readonly protocols: FastCounter<'listener' | 'protocol'>
  readonly duration: FastHistogram
  readonly tunnels: Gauge
  readonly tunnelsTotal: Counter
  readonly denials: FastCounter<'listener' | 'rule'>
  readonly rateLimited: FastCounter<'listener' | 'route'>
  readonly upstreamAttempts: FastCounter<'route' | 'upstream'>

  constructor() {
    const registry = this.registry
    const sources = this.sources
    collectDefaultMetrics({ register: registry, prefix: 'proxykit_' })
    this.requests = new FastCounter(
      'proxykit_requests_total',
      'Requests answered, by listener, route and status code.',
      ['listener', 'route', 'status'],
      registry,
    )
    this.protocols = new FastCounter(
      'proxykit_requests_by_protocol_total',
      'Requests answered, by listener and HTTP version the client spoke (HTTP/1.1, HTTP/2).',
      ['listener', 'protocol'],
      registry,
    )
    this.duration = new FastHistogram(
      'proxykit_request_duration_seconds',
      'Time from the request arriving to the response finishing.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registry,
    )
    registerCacheMetrics(registry, sources)
    registerRedisUp(registry, sources)
    this.tunnels = new Gauge({
      name: 'proxykit_tunnels_open',
      help: 'CONNECT tunnels open now.',
      registers: [registry],
      collect() {
        if (sources.tunnels) this.set(sources.tunnels())
      },
    })
    this.tunnelsTotal = new Counter({
      name: 'proxykit_tunnels_total',
      help: 'CONNECT tunnels established.',
      registers: [registry],
    })
    this.denials = new FastCounter(
      'proxykit_access_denials_total',
      'Requests refused by access control (401, 403, 407), by listener and rule.',
      ['listener', 'rule'],
      registry,
    )
    this.rateLimited = new FastCounter(
      'proxykit_rate_limited_total',
      'Requests refused by a rate limit (429).',
      ['listener', 'route'],
      registry,
    )
    this.upstreamAttempts = new FastCounter(
      'proxykit_upstream_responses_total',
      'Responses received from upstreams, by route and upstream.',
      ['route', 'upstream'],
      registry,
    )
    registerUpstreamGauges(registry, sources)
  }
}

/** The cache's counters and gauges, read from the plugins' `metrics()` at scrape time (never per request). */
function registerCacheMetrics(registry: Registry, sources: MetricSources): void {
  const registers = [registry]
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
}

function registerRedisUp(registry: Registry, sources: MetricSources): void {
  new Gauge({
    name: 'proxykit_redis_up',
    help: 'With redis: 1 while Redis answers every key, 0 while it is degraded (unreachable, a primary down or failing over); the gateway keeps serving meanwhile.',
    registers: [registry],
    // With workers: degraded when any worker sees it so.
    aggregator: 'min',
    collect() {
      if (sources.redisUp) this.set(sources.redisUp())
    },
  })
}

/** Upstream health and in-flight gauges, read from the reverse proxy's `upstreams()` at scrape time. */
function registerUpstreamGauges(registry: Registry, sources: MetricSources): void {
  const registers = [registry]
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
