import type { LookupAddress, LookupFunction } from './options.js'

interface Answer {
  at: number
  value: Promise<LookupAddress[]>
}

/**
 * `lookup` with its answers remembered for `ttlMs` (Squid's ipcache, nginx's `resolver valid=`): without
 * it every request for a name waits on the system resolver, which runs on libuv's four worker threads.
 * Concurrent lookups of one name share one query. Failures are not remembered. A remembered answer is
 * still checked on every request (the destination guard and every connect guard run on each address),
 * so caching never lets an address through that a fresh answer would not. `ttlMs` 0 returns `lookup`.
 */
export function cachedLookup(lookup: LookupFunction, ttlMs: number, maxNames = 10_000): LookupFunction {
  if (ttlMs === 0) return lookup
  const answers = new Map<string, Answer>()
  return (hostname) => {
    const now = Date.now()
    const known = answers.get(hostname)
    if (known !== undefined && now - known.at < ttlMs) return known.value
    const value = lookup(hostname)
    answers.delete(hostname)
    if (answers.size >= maxNames) {
      const oldest = answers.keys().next().value
      if (oldest !== undefined) answers.delete(oldest)
    }
    answers.set(hostname, { at: now, value })
    value.catch(() => {
      if (answers.get(hostname)?.value === value) answers.delete(hostname)
    })
    return value
  }
}
