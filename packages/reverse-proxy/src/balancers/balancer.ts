import type { Upstream } from '../upstream.js'

export interface PickContext {
  /** The upstreams that may take this request: available (healthy, not ejected, not draining) and not yet tried. */
  candidates: readonly Upstream[]
  /** The sticky key (consistent hashing only; '' otherwise). */
  key: string
}

/**
 * One load-balancing algorithm. `pick` chooses among `ctx.candidates` (never empty) and may keep its own
 * state between calls; the numbers it reads (in-flight, latency EWMA, weight) live on the Upstream.
 */
export interface Balancer {
  pick(ctx: PickContext): Upstream | null
}
