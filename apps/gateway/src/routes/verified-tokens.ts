// A JWT route's verified tokens, so that a client's repeated token costs a map lookup instead of a
// signature check and jose's claim checks on every request. Keyed by the exact token string (a token
// that differs by one byte is another key, verified by jose); an entry is used only before the token's
// own `exp` and for at most `maxAgeMs` after it was verified (a key rotated out of a JWKS stops being
// honoured within that time); bounded, the least recently used token out first.

interface Entry<T> {
  value: T
  until: number
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
    this.#entries.delete(token)
    if (entry.until <= now) return undefined
    // Map keeps insertion order: re-inserted, the token is the youngest, the last to go.
    this.#entries.set(token, entry)
    return entry.value
  }

  /** Keeps `value` for `token`, verified at `now`, until `expMs` (the token's `exp` in ms) at the latest. */
  set(token: string, value: T, expMs: number, now: number): void {
    const until = Math.min(expMs, now + this.maxAgeMs)
    if (until <= now) return
    this.#entries.delete(token)
    if (this.#entries.size >= this.limit) this.#entries.delete(this.#entries.keys().next().value!)
    this.#entries.set(token, { value, until })
  }
}
