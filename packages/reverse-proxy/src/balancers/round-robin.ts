import type { Upstream } from '../upstream.js'
import type { Balancer, PickContext } from './balancer.js'

/** Each candidate in turn; weights are ignored (use weighted-round-robin for those). */
export class RoundRobin implements Balancer {
  private next = 0

  pick({ candidates }: PickContext): Upstream | null {
    const n = candidates.length
    if (n === 0) return null
    const i = this.next++ % n
    if (this.next >= 0x3fffffff) this.next = 0
    return candidates[i]!
  }
}
