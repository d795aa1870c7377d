import { randomBytes } from 'node:crypto'
import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CachedResponse, CacheEntry, CacheKey, CacheStore } from '@proxykit/cache'
import type { Redis } from 'ioredis'

// Collapsed misses across gateway instances. @proxykit/cache collapses concurrent misses for one URL
// inside a process; with several processes (workers, machines) sharing a Redis store, each would still
// send its own request upstream. This store wrapper adds a short Redis lock per URL: the instance that
// takes it goes upstream; the others wait (polling the store) until the entry appears, the lock goes, or
// the wait runs out, and then go upstream themselves. The lock is released when the entry is written;
// a response that cannot be stored never writes, so its lock simply expires (`lockMs`, short).

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

export interface CollapseOptions {
  /** Key prefix for the locks. */
  prefix: string
  /** How long a lock lives when its holder never stores (the response was not storable, or it died). */
  lockMs?: number
  /** How often a waiting instance looks for the entry. */
  pollMs?: number
}

export class InstanceCollapsingStore implements CacheStore {
  readonly inner: CacheStore
  readonly #client: Redis
  readonly #prefix: string
  readonly #lockMs: number
  readonly #pollMs: number
  /** URL → the token of the lock this instance holds for it. */
  readonly #held = new Map<string, string>()
  /** Misses that waited for another instance and were then served from the store. */
  collapsed = 0

  constructor(inner: CacheStore, client: Redis, options: CollapseOptions) {
    this.inner = inner
    this.#client = client
    this.#prefix = options.prefix
    this.#lockMs = options.lockMs ?? 2000
    this.#pollMs = options.pollMs ?? 20
  }

  async get(key: CacheKey): Promise<CacheEntry | null | undefined> {
    const entry = await this.inner.get(key)
    if (entry) return entry
    const lock = `${this.#prefix}${key.url}`
    const token = randomBytes(9).toString('base64url')
    let taken: string | null
    try {
      taken = await this.#client.set(lock, token, 'PX', this.#lockMs, 'NX')
    } catch {
      return entry // Redis trouble: no collapsing, an ordinary miss
    }
    if (taken === 'OK') {
      this.#held.set(key.url, token)
      const timer = setTimeout(() => {
        if (this.#held.get(key.url) === token) this.#held.delete(key.url)
      }, this.#lockMs)
      timer.unref()
      return entry
    }
    // Another instance is fetching this URL: wait for its entry (bounded by the lock's life).
    const deadline = Date.now() + this.#lockMs
    while (Date.now() < deadline) {
      await sleep(this.#pollMs)
      try {
        const found = await this.inner.get(key)
        if (found) {
          this.collapsed++
          return found
        }
        if ((await this.#client.exists(lock)) === 0) break
      } catch {
        break
      }
    }
    return entry
  }

  createWriteStream(key: CacheKey, value: CachedResponse): Writable | undefined {
    const stream = this.inner.createWriteStream(key, value)
    const token = this.#held.get(key.url)
    if (stream === undefined || token === undefined) return stream
    const release = () => {
      if (this.#held.get(key.url) !== token) return
      this.#held.delete(key.url)
      this.#client.eval(RELEASE, 1, `${this.#prefix}${key.url}`, token).catch(() => {})
    }
    // Written (the waiters find it) or abandoned (they stop waiting once the lock is gone).
    stream.once('finish', release)
    stream.once('close', release)
    return stream
  }

  delete(key: { url: string }): void | Promise<void> {
    return this.inner.delete(key)
  }

  deleteTag(tag: string): void | Promise<void> {
    return this.inner.deleteTag(tag)
  }

  close(): void | Promise<void> {
    return this.inner.close?.()
  }
}
