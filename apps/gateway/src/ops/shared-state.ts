import { randomBytes } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CachedResponse, CacheEntry, CacheKey, CacheStore } from '@proxykit/cache'
import type { RedisClient } from '@proxykit/cache/redis'

// Collapsed misses across gateway instances. @proxykit/cache collapses concurrent misses for one URL
// inside a process; with several processes (workers, machines) sharing a Redis store, each would still
// send its own request upstream. This store wrapper adds a short Redis lock per URL: the instance that
// takes it goes upstream; the others wait (polling the store) until the entry appears, the lock goes, or
// the wait runs out, and then go upstream themselves. The lock is released once the leader's response
// is over (and its entry written, when it was storable): the listening servers record each request's
// response by its headers object (`trackResponses`), which is the object the cache passes as
// `key.headers`. Without that record (a route with its own key part), the lock expires after `lockMs`.

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** Each request in flight's response, by the request's headers object (what a store sees). */
const responses = new WeakMap<object, ServerResponse>()

/** Marks a 'request' listener that a hot reload's takeover leaves on the listening server. */
export const kKeepOnFront = Symbol('proxykit.keepOnFront')

/** Records every request's response on `server` (first listener), for lock release. */
export function trackResponses(server: Server): void {
  const track = (req: IncomingMessage, res: ServerResponse) => {
    responses.set(req.headers, res)
  }
  ;(track as unknown as Record<symbol, boolean>)[kKeepOnFront] = true
  server.prependListener('request', track)
}

interface Held {
  token: string
  writing: boolean
  released: boolean
}

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
  readonly #client: RedisClient
  readonly #prefix: string
  readonly #lockMs: number
  readonly #pollMs: number
  /** URL → the lock this instance holds for it. */
  readonly #held = new Map<string, Held>()
  /** Misses that waited for another instance and were then served from the store. */
  collapsed = 0

  constructor(inner: CacheStore, client: RedisClient, options: CollapseOptions) {
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
      const held: Held = { token, writing: false, released: false }
      this.#held.set(key.url, held)
      const timer = setTimeout(() => this.#forget(key.url, held), this.#lockMs)
      timer.unref()
      // The leader's response is over: release, unless its entry is still being written.
      responses.get(key.headers)?.once('close', () => {
        if (!held.writing) this.#release(key.url, held)
      })
      return entry
    }
    // This instance leads already: the cache collapses its own requests in process.
    if (this.#held.has(key.url)) return entry
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
        if ((await this.#client.exists(lock)) === 0) {
          // The leader may have written its entry and released the lock between the read above and this
          // check: read once more before going upstream.
          const last = await this.inner.get(key)
          if (last) this.collapsed++
          return last ?? entry
        }
      } catch {
        break
      }
    }
    return entry
  }

  createWriteStream(key: CacheKey, value: CachedResponse): Writable | undefined {
    const stream = this.inner.createWriteStream(key, value)
    const held = this.#held.get(key.url)
    if (stream === undefined || held === undefined) return stream
    held.writing = true
    // Written (the waiters find it) or abandoned (they stop waiting once the lock is gone).
    const release = () => this.#release(key.url, held)
    stream.once('finish', release)
    stream.once('close', release)
    return stream
  }

  #forget(url: string, held: Held): void {
    if (this.#held.get(url) === held) this.#held.delete(url)
  }

  #release(url: string, held: Held): void {
    if (held.released) return
    held.released = true
    this.#forget(url, held)
    this.#client.eval(RELEASE, 1, `${this.#prefix}${url}`, held.token).catch(() => {})
  }

  delete(key: { url: string }): ReturnType<CacheStore['delete']> {
    return this.inner.delete(key)
  }

  deleteTag(tag: string): ReturnType<CacheStore['deleteTag']> {
    return this.inner.deleteTag(tag)
  }

  close(): void | Promise<void> {
    return this.inner.close?.()
  }
}
