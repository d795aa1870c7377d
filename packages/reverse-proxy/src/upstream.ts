import { Http1Pool } from '@proxykit/core'
import { Http2Pool, type UpstreamPool } from './http2-pool.js'
import { type PassiveHealthOptions, protocolMismatch, type ResolvedRoute } from './options.js'

export type UpstreamState = 'healthy' | 'unhealthy' | 'ejected' | 'draining'

/** What the decorator API and the gateway's metrics see of one upstream. */
export interface UpstreamStatus {
  url: string
  weight: number
  state: UpstreamState
  /** Active health check verdict (true when checks are off). */
  healthy: boolean
  /** Passive ejection: epoch ms until which it is out, 0 when in. */
  ejectedUntil: number
  inFlight: number
  /** Open WebSocket / Upgrade tunnels. */
  tunnels: number
  /** Exponentially weighted moving average of time to response headers, in ms (0 before the first). */
  ewmaMs: number
  requests: number
  failures: number
  consecutiveFailures: number
}

/** What the plugin logs about an upstream's health. */
export type UpstreamEvent =
  | { kind: 'healthy' }
  | { kind: 'unhealthy' }
  | { kind: 'ejected'; forMs: number; ejections: number }
  | { kind: 'returned'; by: 'success' | 'health-check'; outMs: number }

// Weight of the newest sample in the latency average: about the last ten requests dominate.
const EWMA_ALPHA = 0.2
// Without new samples the average decays towards 0 with this time constant (Finagle's peak EWMA does the
// same), so an upstream that was slow once is tried again rather than shunned for good.
const EWMA_DECAY_MS = 2_000

/**
 * One server behind a route: its connection pool and every number the balancers and health logic read.
 * Balancers never change it; the proxy calls begin/end around each request and record* with the outcome.
 */
export class Upstream {
  readonly url: string
  readonly hostname: string
  readonly port: number
  readonly secure: boolean
  /** `host[:port]` as a Host header names it. */
  readonly authority: string
  readonly weight: number
  readonly pool: UpstreamPool
  inFlight = 0
  tunnels = 0
  ewmaMs = 0
  private ewmaAt = 0
  requests = 0
  failures = 0
  healthy = true
  checkSuccesses = 0
  checkFailures = 0
  consecutiveFailures = 0
  ejections = 0
  ejectedUntil = 0
  /** Set by an ejection, cleared (and logged as a return) by the first success or passing check after it. */
  ejectedSince = 0
  // `requests` when the last failure was counted: a failure of a request sent before that was in flight at
  // that moment, and is the same incident (a crash fails every request it was serving at once).
  private failureMark = 0
  draining = false
  private idleWaiters: Array<() => void> = []

  constructor(url: string, weight: number, route: ResolvedRoute) {
    const u = new URL(url)
    this.url = u.origin
    this.secure = u.protocol === 'https:'
    this.hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
    this.port = u.port === '' ? (this.secure ? 443 : 80) : Number(u.port)
    this.authority = u.host
    this.weight = weight
    const wrong = protocolMismatch(route.protocol, this.url)
    if (wrong !== null) throw new Error(`upstream ${this.url} ${wrong}`)
    this.pool =
      route.protocol === 'http1'
        ? new Http1Pool(u, {
            connections: route.connections,
            connectTimeout: route.timeouts.connect,
            headersTimeout: route.timeouts.headers,
            bodyTimeout: route.timeouts.idle,
            ...(route.tls !== null ? { tls: route.tls } : {}),
          })
        : new Http2Pool(u, {
            tls: route.protocol === 'h2' ? (route.tls ?? {}) : null,
            connectTimeout: route.timeouts.connect,
            headersTimeout: route.timeouts.headers,
            bodyTimeout: route.timeouts.idle,
          })
  }

  available(now: number): boolean {
    return !this.draining && this.healthy && this.ejectedUntil <= now
  }

  state(now: number): UpstreamState {
    if (this.draining) return 'draining'
    if (!this.healthy) return 'unhealthy'
    if (this.ejectedUntil > now) return 'ejected'
    return 'healthy'
  }

  /** Returns the request's sequence number, for recordFailure. */
  begin(): number {
    this.inFlight++
    return ++this.requests
  }

  end(): void {
    this.inFlight--
    if (this.inFlight === 0 && this.idleWaiters.length !== 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const w of waiters) w()
    }
  }

  /** Resolves once no request is in flight (tunnels are not waited for: they can live for hours). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  recordLatency(ms: number, now: number): void {
    const current = this.latency(now)
    this.ewmaMs = current === 0 ? ms : current + EWMA_ALPHA * (ms - current)
    this.ewmaAt = now
  }

  /** The latency average as of `now` (ms, `performance.now()` clock), decayed for the time without samples. */
  latency(now: number): number {
    if (this.ewmaMs === 0) return 0
    return this.ewmaMs * Math.exp(-(now - this.ewmaAt) / EWMA_DECAY_MS)
  }

  /** Returns true when this success ends an ejection (the upstream is back). */
  recordSuccess(): boolean {
    this.consecutiveFailures = 0
    this.ejections = 0
    return this.endEjection()
  }

  /** Ends an ejection early (a passing active check); true when there was one. */
  endEjection(): boolean {
    if (this.ejectedSince === 0) return false
    this.ejectedSince = 0
    this.ejectedUntil = 0
    this.consecutiveFailures = 0
    return true
  }

  /**
   * A connect failure, reset, timeout or an answer whose status the route counts, of the request `seq`
   * (begin's number). After `passive.failures` in a row the upstream is ejected for `ejectMs`, doubling
   * with each ejection that follows without a success in between (capped at `maxEjectMs`); when the time
   * is up it is simply tried again. A failure of a request that was already in flight when the last one
   * was counted, or while the upstream is ejected, is not counted again. `last`: no other upstream of the
   * route is available, so this one is never ejected (it is still tried). Returns true when this failure
   * ejected it.
   */
  recordFailure(passive: PassiveHealthOptions | false, now: number, seq: number, last = false): boolean {
    this.failures++
    if (passive === false || seq <= this.failureMark || this.ejectedUntil > now) return false
    this.failureMark = this.requests
    this.consecutiveFailures++
    if (this.consecutiveFailures < passive.failures || last) return false
    const backoff = Math.min(passive.ejectMs * 2 ** this.ejections, passive.maxEjectMs)
    this.ejections++
    this.consecutiveFailures = 0
    this.ejectedUntil = now + backoff
    if (this.ejectedSince === 0) this.ejectedSince = now
    return true
  }

  status(now: number): UpstreamStatus {
    return {
      url: this.url,
      weight: this.weight,
      state: this.state(now),
      healthy: this.healthy,
      ejectedUntil: this.ejectedUntil > now ? this.ejectedUntil : 0,
      inFlight: this.inFlight,
      tunnels: this.tunnels,
      ewmaMs: Math.round(this.latency(performance.now()) * 100) / 100,
      requests: this.requests,
      failures: this.failures,
      consecutiveFailures: this.consecutiveFailures,
    }
  }

  close(): Promise<void> {
    return this.pool.close()
  }

  destroy(): Promise<void> {
    return this.pool.destroy()
  }
}
