import type { Upstream } from '../upstream.js'
import type { Balancer, PickContext } from './balancer.js'

/**
 * The candidate with the fewest requests in flight relative to its weight (nginx `least_conn`, HAProxy
 * `leastconn`). The scan starts at a rotating index so that ties (an idle fleet) still spread evenly.
 */
export class LeastInFlight implements Balancer {
  private start = 0

  pick({ candidates }: PickContext): Upstream | null {
    const n = candidates.length
    if (n === 0) return null
    const offset = this.start++ % n
    if (this.start >= 0x3fffffff) this.start = 0
    let best: Upstream | null = null
    let bestLoad = Infinity
    for (let k = 0; k < n; k++) {
      const u = candidates[(offset + k) % n]!
      const load = u.inFlight / u.weight
      if (load < bestLoad) {
        bestLoad = load
        best = u
      }
    }
    return best
  }
}
