import type { ResolvedHealthCheck } from './options.js'
import type { Upstream } from './upstream.js'

function passes(status: number, expected: number[] | null): boolean {
  return expected === null ? status >= 200 && status < 400 : expected.includes(status)
}

/** Past this many bytes a check's body has shown that it flows: the rest is not read. */
const BODY_READ_LIMIT = 64 * 1024

/**
 * Reads a check's body to its end: a passing status followed by a body that stalls past the timeout or
 * breaks off is a failing upstream (undici's `dump()` would have resolved either way).
 */
async function bodyArrives(body: AsyncIterable<Buffer>): Promise<boolean> {
  let left = BODY_READ_LIMIT
  try {
    for await (const chunk of body) {
      left -= chunk.length
      if (left <= 0) return true // leaving the loop destroys the stream
    }
    return true
  } catch {
    return false
  }
}

/**
 * Active health checks: a GET of `path` on every upstream each `intervalMs`; `fall` failures in a row mark
 * it unhealthy, `rise` passes in a row bring it back. Timers are unref'd (they never keep the process
 * alive) and one check per upstream runs at a time.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | null = null
  private readonly running = new WeakSet<Upstream>()

  constructor(
    private readonly options: ResolvedHealthCheck,
    private readonly upstreams: () => readonly Upstream[],
    private readonly onChange: (u: Upstream, healthy: boolean) => void,
  ) {}

  get started(): boolean {
    return this.timer !== null
  }

  start(): void {
    if (this.timer !== null) return
    this.timer = setInterval(() => this.runAll(), this.options.intervalMs)
    this.timer.unref()
    this.runAll()
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  runAll(): void {
    for (const u of this.upstreams()) if (!this.running.has(u)) void this.check(u)
  }

  async check(u: Upstream): Promise<boolean> {
    this.running.add(u)
    let ok = false
    try {
      const res = await u.pool.request({
        method: 'GET',
        path: this.options.path,
        headers: { host: u.authority, 'user-agent': 'proxykit-health-check' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      })
      ok = (await bodyArrives(res.body)) && passes(res.statusCode, this.options.expectedStatus)
    } catch {
      ok = false
    } finally {
      this.running.delete(u)
    }
    if (this.timer === null) return ok
    if (ok) {
      u.checkFailures = 0
      u.checkSuccesses++
      if (!u.healthy && u.checkSuccesses >= this.options.rise) {
        u.healthy = true
        this.onChange(u, true)
      }
    } else {
      u.checkSuccesses = 0
      u.checkFailures++
      if (u.healthy && u.checkFailures >= this.options.fall) {
        u.healthy = false
        this.onChange(u, false)
      }
    }
    return ok
  }
}
