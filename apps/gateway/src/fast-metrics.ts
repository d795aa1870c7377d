import type { Registry } from 'prom-client'

export type LabelValue = string | number

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
