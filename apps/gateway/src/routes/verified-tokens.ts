// A JWT route's verified tokens, so that a client's repeated token costs a map lookup instead of a
// signature check and jose's claim checks on every request. Keyed by the exact token string (a token
// that differs by one byte is another key, verified by jose); an entry is used only before the token's
// own `exp` and for at most `maxAgeMs` after it was verified (a key rotated out of a JWKS stops being
// honoured within that time); bounded. Which token goes when full is the least recently used one as
// CLOCK approximates it (second chance): the oldest entry goes unless it was used since it was last
// passed over. A use only marks its entry: moving it to the end of the map (a delete and a set) on every
// hit was most of what a hit cost.

interface Entry<T> {
  value: T
  until: number
  used: boolean
}

export class VerifiedTokens<T> {
  readonly #entries = new Map<string, Entry<T>>()

  constructor(
    readonly limit: number,
    readonly maxAgeMs: number,
  ) {}

  get size(): number {
    return this.#entries.size
  }

  /** What was verified for `token`, if that is still good at `now` (ms). */
  get(token: string, now: number): T | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined) return undefined
    if (entry.until <= now) {
      this.#entries.delete(token)
      return undefined
    }
    entry.used = true
    return entry.value
  }

  /** Keeps `value` for `token`, verified at `now`, until `expMs` (the token's `exp` in ms) at the latest. */
  set(token: string, value: T, expMs: number, now: number): void {
    const until = Math.min(expMs, now + this.maxAgeMs)
    if (until <= now) return
    this.#entries.delete(token)
    // Map keeps insertion order: the first entry is the oldest. A used one gets its second chance at
    // the end; at most `limit` are passed over, so this ends.
    while (this.#entries.size >= this.limit) {
      const [oldest, entry] = this.#entries.entries().next().value!
      this.#entries.delete(oldest)
      if (entry.used && entry.until > now) {
        entry.used = false
        this.#entries.set(oldest, entry)
      }
    }
    this.#entries.set(token, { value, until, used: false })
  }
}
