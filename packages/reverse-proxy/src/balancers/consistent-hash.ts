import type { Upstream } from '../upstream.js'
import type { Balancer, PickContext } from './balancer.js'

/** FNV-1a, 32 bits: fast and good enough as the input to the mixer below. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** MurmurHash3's finaliser: every input bit flips about half of the output bits. */
function mix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * Rendezvous (highest random weight) hashing: each candidate scores hash(key, upstream) and the highest
 * wins. Removing an upstream moves only the keys it owned; adding one takes about 1/N of the keys from
 * the others — the property a ring with virtual nodes approximates, here exact and without a ring to
 * rebuild when the set or health changes (skipping a down upstream is just leaving it out). O(N) per pick,
 * which is nothing for the tens of upstreams a route has. Weighted by the logarithmic method
 * (score = -w / ln(u), Schindelhauer & Schomaker), so weight 2 owns twice the keys of weight 1.
 */
export class ConsistentHash implements Balancer {
  private readonly seeds = new WeakMap<Upstream, number>()

  private seed(u: Upstream): number {
    let s = this.seeds.get(u)
    if (s === undefined) {
      s = fnv1a(u.url)
      this.seeds.set(u, s)
    }
    return s
  }

  pick({ candidates, key }: PickContext): Upstream | null {
    const k = mix(fnv1a(key))
    let best: Upstream | null = null
    let bestScore = -Infinity
    for (let i = 0; i < candidates.length; i++) {
      const u = candidates[i]!
      const h = mix(k ^ this.seed(u))
      const unit = (h + 0.5) / 4294967296
      const score = -u.weight / Math.log(unit)
      if (score > bestScore) {
        bestScore = score
        best = u
      }
    }
    return best
  }
}
