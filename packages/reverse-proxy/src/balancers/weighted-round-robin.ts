import type { Upstream } from '../upstream.js'
import type { Balancer, PickContext } from './balancer.js'

/**
 * nginx's smooth weighted round robin (ngx_http_upstream_get_peer): every pick adds each candidate's
 * weight to its running score, takes the highest, and subtracts the total from the winner. Weights 5,1,1
 * give a a b a c a a — spread out rather than five a's in a row. Equal weights reduce to plain rotation.
 */
export class WeightedRoundRobin implements Balancer {
  private readonly current = new WeakMap<Upstream, number>()

  pick({ candidates }: PickContext): Upstream | null {
    let best: Upstream | null = null
    let bestScore = -Infinity
    let total = 0
    for (let i = 0; i < candidates.length; i++) {
      const u = candidates[i]!
      const score = (this.current.get(u) ?? 0) + u.weight
      this.current.set(u, score)
      total += u.weight
      if (score > bestScore) {
        bestScore = score
        best = u
      }
    }
    if (best !== null) this.current.set(best, bestScore - total)
    return best
  }
}
