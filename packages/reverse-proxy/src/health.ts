import type { DispatchHandler, Exchange } from '@proxykit/core'
import type { ResolvedHealthCheck } from './options.js'
import type { Upstream, UpstreamEvent } from './upstream.js'

function passes(status: number, expected: number[] | null): boolean {
  return expected === null ? status >= 200 && status < 400 : expected.includes(status)
}

/** Past this many bytes a check's body has shown that it flows: the rest is not read. */
const BODY_READ_LIMIT = 64 * 1024

/**
 * One check: a GET of `path`, resolving to the status once the body has arrived (or 0 when it failed).
 * A passing status followed by a body that stalls past the timeout or breaks off is a failing upstream,
 * so the body is read to its end (or to BODY_READ_LIMIT, which shows that it flows) within the timeout.
 */
function probe(u: Upstream, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    let status = 0
    let read = 0
    let controller: Exchange | null = null
    const finish = (result: number): void => {
      clearTimeout(timer)
      resolve(result)
    }
    const timer = setTimeout(
      () => controller?.abort(new Error(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    )
    timer.unref()
    const handler: DispatchHandler = {
      onRequestStart(c) {
        controller = c
      },
      onResponseStart(_c, statusCode) {
        status = statusCode
      },
      onResponseData(c, chunk) {
        read += chunk.length
        // Enough to show the body flows: aborting ends the exchange, and onResponseError settles it.
        if (read >= BODY_READ_LIMIT) c.abort(new Error('enough of the body'))
      },
      onResponseEnd() {
        finish(status)
      },
      onResponseError() {
        finish(read >= BODY_READ_LIMIT ? status : 0)
      },
    }
    u.pool.dispatch({ method: 'GET', path, headers: { 'user-agent': 'proxykit-health-check' } }, handler)
  })
}

/**
 * Active health checks: a GET of `path` on every upstream each `intervalMs`; `fall` failures in a row mark
 * it unhealthy, `rise` passes in a row bring it back; a pass also ends a passive ejection. Timers are unref'd (they never keep the process
 * alive) and one check per upstream runs at a time.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | null = null
  private readonly running = new WeakSet<Upstream>()

  constructor(
    private readonly options: ResolvedHealthCheck,
    private readonly upstreams: () => readonly Upstream[],
    private readonly onChange: (u: Upstream, event: UpstreamEvent) => void,
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
      const status = await probe(u, this.options.path, this.options.timeoutMs)
      ok = status !== 0 && passes(status, this.options.expectedStatus)
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
        this.onChange(u, { kind: 'healthy' })
      }
      // A passive ejection ends as soon as the upstream answers its check: a crash that is over within
      // seconds must not keep it out for the rest of a backoff that the failures at the crash built up.
      const since = u.ejectedSince
      if (u.healthy && u.endEjection())
        this.onChange(u, { kind: 'returned', by: 'health-check', outMs: Date.now() - since })
    } else {
      u.checkSuccesses = 0
      u.checkFailures++
      if (u.healthy && u.checkFailures >= this.options.fall) {
        u.healthy = false
        this.onChange(u, { kind: 'unhealthy' })
      }
    }
    return ok
  }
}
