import type { MetricObjectWithValues, MetricValue } from 'prom-client'

// The dashboard's numbers, computed once a second from the Prometheus registry (a worker's own, or the
// primary's aggregate of every worker's), so the page shows exactly what /metrics says, as rates.

export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>

/** Reads the registry as JSON (`registry.getMetricsAsJSON()`, or the cluster aggregate). */
export type MetricsReader = () => Promise<MetricsJson>

/** A request refused by access control or a rate limit, as the access log saw it. */
export interface DenialEvent {
  at: number
  listener: string
  status: number
  rule: string | null
  remote: string | null
  method: string | null
  target: string | null
}

export interface LivePoint {
  /** ms since the epoch. */
  t: number
  /** Requests per second, by listener. */
  rps: Record<string, number>
  /** Requests per second on the forward and reverse listeners, by status class (`2xx` …). */
  status: Record<string, number>
  /** Latency quantiles over the last interval, ms (forward and reverse listeners); null without traffic. */
  p50: number | null
  p99: number | null
  /** Cache hits (fresh or stale) / lookups over the last interval; null without lookups. */
  hitRatio: number | null
  /** Cache lookups per second. */
  lookups: number
  tunnels: number
  /** Denials per second (401/403/407/429). */
  denials: number
  /** With `redis`: whether it answers every key (false: degraded, the gateway serving without it); else null. */
  redis: boolean | null
}

export interface UpstreamRow {
  route: string
  upstream: string
  healthy: boolean
  inFlight: number
}

export interface LiveSnapshot {
  startedAt: number
  workers: number
  now: LivePoint | null
  history: LivePoint[]
  upstreams: UpstreamRow[]
  denials: DenialEvent[]
  /** Totals since start: requests by listener, denials by listener and rule. */
  totals: { requests: Record<string, number>; denialsByRule: Record<string, number> }
}

const DATA_LISTENERS = new Set(['forward', 'reverse'])
const HISTORY = 180
/** Denials kept for the dashboard: /live, /live/stream and the page's table all show this many. */
export const RECENT_DENIALS = 50

interface Counters {
  t: number
  requests: Map<string, number>
  status: Map<string, number>
  /** Cumulative bucket counts by upper bound, data listeners summed. */
  buckets: Map<number, number>
  hits: number
  lookups: number
  denials: number
}

function metric(json: MetricsJson, name: string) {
  return json.find((m) => m.name === name)?.values ?? []
}

function read(json: MetricsJson, t: number): Counters {
  const c: Counters = {
    t,
    requests: new Map(),
    status: new Map(),
    buckets: new Map(),
    hits: 0,
    lookups: 0,
    denials: 0,
  }
  for (const v of metric(json, 'proxykit_requests_total')) {
    const listener = String(v.labels.listener)
    c.requests.set(listener, (c.requests.get(listener) ?? 0) + v.value)
    if (DATA_LISTENERS.has(listener)) {
      const cls = `${String(v.labels.status)[0]}xx`
      c.status.set(cls, (c.status.get(cls) ?? 0) + v.value)
      const status = Number(v.labels.status)
      if (status === 401 || status === 403 || status === 407 || status === 429) c.denials += v.value
    }
  }
  for (const v of metric(json, 'proxykit_request_duration_seconds')) {
    const m = v as MetricValue<string> & { metricName?: string }
    if (m.metricName !== undefined && !m.metricName.endsWith('_bucket')) continue
    if (!DATA_LISTENERS.has(String(v.labels.listener)) || v.labels.le === undefined) continue
    const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le)
    c.buckets.set(le, (c.buckets.get(le) ?? 0) + v.value)
  }
  for (const v of metric(json, 'proxykit_cache_requests_total')) {
    const result = String(v.labels.result)
    if (result === 'bypass') continue
    c.lookups += v.value
    if (result === 'hit' || result === 'stale') c.hits += v.value
  }
  return c
}

/** Prometheus's histogram_quantile over bucket deltas (linear within a bucket), in ms. */
export function quantile(q: number, buckets: Array<[number, number]>): number | null {
  const sorted = buckets.sort((a, b) => a[0] - b[0])
  const total = sorted.at(-1)?.[1] ?? 0
  if (total <= 0) return null
  const rank = q * total
  let prevBound = 0
  let prevCount = 0
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return prevBound * 1000
      const inBucket = count - prevCount
      const within = inBucket <= 0 ? 1 : (rank - prevCount) / inBucket
      return (prevBound + (bound - prevBound) * within) * 1000
    }
    prevBound = Number.isFinite(bound) ? bound : prevBound
    prevCount = count
  }
  return prevBound * 1000
}

function delta(a: number, b: number): number {
  // A sum that went down lost a worker's counters (a replaced worker starts from 0): that interval's
  // increase is unknown, and counting the whole remaining total would draw a spike.
  return b >= a ? b - a : 0
}

export function point(prev: Counters, cur: Counters, json: MetricsJson): LivePoint {
  const seconds = Math.max((cur.t - prev.t) / 1000, 0.001)
  const rps: Record<string, number> = {}
  for (const [l, n] of cur.requests) rps[l] = delta(prev.requests.get(l) ?? 0, n) / seconds
  const status: Record<string, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 }
  for (const [cls, n] of cur.status) status[cls] = delta(prev.status.get(cls) ?? 0, n) / seconds
  const buckets: Array<[number, number]> = [...cur.buckets].map(([le, n]) => [
    le,
    delta(prev.buckets.get(le) ?? 0, n),
  ])
  const lookups = delta(prev.lookups, cur.lookups)
  const hits = Math.min(delta(prev.hits, cur.hits), lookups)
  const tunnels = metric(json, 'proxykit_tunnels_open').reduce((s, v) => s + v.value, 0)
  const redis = metric(json, 'proxykit_redis_up')
  return {
    t: cur.t,
    rps,
    status,
    p50: quantile(0.5, buckets),
    p99: quantile(0.99, buckets),
    hitRatio: lookups > 0 ? hits / lookups : null,
    lookups: lookups / seconds,
    tunnels,
    denials: delta(prev.denials, cur.denials) / seconds,
    redis: redis.length === 0 ? null : redis.every((v) => v.value > 0),
  }
}

function upstreams(json: MetricsJson): UpstreamRow[] {
  const rows = new Map<string, UpstreamRow>()
  const row = (labels: Partial<Record<string, string | number>>) => {
    const key = `${labels.route} ${labels.upstream}`
    let r = rows.get(key)
    if (r === undefined) {
      r = { route: String(labels.route), upstream: String(labels.upstream), healthy: false, inFlight: 0 }
      rows.set(key, r)
    }
    return r
  }
  // Summed over workers: healthy when any worker sends it traffic.
  for (const v of metric(json, 'proxykit_upstream_healthy')) row(v.labels).healthy ||= v.value > 0
  for (const v of metric(json, 'proxykit_upstream_in_flight')) row(v.labels).inFlight += v.value
  return [...rows.values()]
}

export interface LiveStatsOptions {
  read: MetricsReader
  /** How many worker processes the numbers cover (1 without `workers`). */
  workers?: () => number
  intervalMs?: number
}

/** Samples the registry every second and keeps three minutes of points, for the page and its SSE feed. */
export class LiveStats {
  readonly startedAt = Date.now()
  readonly #read: MetricsReader
  readonly #workers: () => number
  readonly #history: LivePoint[] = []
  readonly #denials: DenialEvent[] = []
  readonly #subscribers = new Set<(p: LivePoint) => void>()
  #prev: Counters | null = null
  #json: MetricsJson = []
  #timer: NodeJS.Timeout | null = null
  #sampling = false

  constructor(options: LiveStatsOptions) {
    this.#read = options.read
    this.#workers = options.workers ?? (() => 1)
    this.#timer = setInterval(() => void this.sample(), options.intervalMs ?? 1000)
    this.#timer.unref()
    void this.sample()
  }

  /** Takes one sample now (the timer calls it every interval). */
  async sample(): Promise<void> {
    if (this.#sampling) return
    this.#sampling = true
    try {
      const json = await this.#read()
      const cur = read(json, Date.now())
      const prev = this.#prev
      // Totals in a snapshot come from #prev: update it before subscribers take one.
      this.#json = json
      this.#prev = cur
      if (prev !== null) {
        const p = point(prev, cur, json)
        this.#history.push(p)
        if (this.#history.length > HISTORY) this.#history.shift()
        for (const s of this.#subscribers) s(p)
      }
    } catch {
      // A worker that did not answer in time: skip this point, the next one covers the interval.
    } finally {
      this.#sampling = false
    }
  }

  /** Records a denial seen by the access log (newest first, bounded). */
  recordDenial(event: DenialEvent): void {
    this.#denials.unshift(event)
    if (this.#denials.length > RECENT_DENIALS) this.#denials.length = RECENT_DENIALS
  }

  snapshot(): LiveSnapshot {
    const requests: Record<string, number> = {}
    for (const [l, n] of this.#prev?.requests ?? []) requests[l] = n
    const denialsByRule: Record<string, number> = {}
    for (const v of metric(this.#json, 'proxykit_access_denials_total'))
      denialsByRule[`${v.labels.listener} ${v.labels.rule}`] = v.value
    for (const v of metric(this.#json, 'proxykit_rate_limited_total'))
      denialsByRule[`${v.labels.listener} ${v.labels.route} (429)`] = v.value
    return {
      startedAt: this.startedAt,
      workers: this.#workers(),
      now: this.#history.at(-1) ?? null,
      history: [...this.#history],
      upstreams: upstreams(this.#json),
      denials: [...this.#denials],
      totals: { requests, denialsByRule },
    }
  }

  /** Calls `fn` with every new point until the returned function is called. */
  subscribe(fn: (p: LivePoint) => void): () => void {
    this.#subscribers.add(fn)
    return () => this.#subscribers.delete(fn)
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#subscribers.clear()
  }
}
