import type { Upstream } from '../upstream.js'
import type { Balancer, PickContext } from './balancer.js'

export type P2CMetric = 'in-flight' | 'latency'

/**
 * Power of two random choices (Mitzenmacher): two distinct random candidates, the less loaded one wins.
 * Nearly as good as scanning everything, with no herd on the single least-loaded server. Load is the
 * in-flight count, or (`latency`) the latency EWMA scaled by in-flight + 1, as Finagle's and Linkerd's
 * peak-EWMA balancers do, so a slow server that is also busy looks worse than a slow idle one.
 */
export class PowerOfTwoChoices implements Balancer {
  constructor(
    private readonly metric: P2CMetric = 'in-flight',
    private readonly random: () => number = Math.random,
  ) {}

  private load(u: Upstream, now: number): number {
    if (this.metric === 'in-flight') return u.inFlight / u.weight
    return ((u.latency(now) || 1) * (u.inFlight + 1)) / u.weight
  }

  pick({ candidates }: PickContext): Upstream | null {
    const n = candidates.length
    if (n === 0) return null
    if (n === 1) return candidates[0]!
    const i = Math.floor(this.random() * n)
    let j = Math.floor(this.random() * (n - 1))
    if (j >= i) j++
    const a = candidates[i]!
    const b = candidates[j]!
    const now = this.metric === 'latency' ? performance.now() : 0
    return this.load(b, now) < this.load(a, now) ? b : a
  }
}
