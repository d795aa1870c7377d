// Over ~300 lines for a reason: one store class whose operations (lookup, streamed write, purges, the
// collapsing lock) and local tier share one client, key prefix and invalidation generation. Making the
// client is redis-client.ts, the key layout and scripts redis-layout.ts, the pub/sub subscription.ts.
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { optionChecks } from '@proxykit/core'
import { Command, type RedisOptions } from 'ioredis'
import { staleAt } from '../policy.js'
import {
  type CachedResponse,
  type CacheEntry,
  type CacheKey,
  type CacheStore,
  varyMatches,
} from '../store.js'
import { defaultMaxEntrySize, MemoryStore } from './memory.js'
import { type RedisClient, type RedisConnection, redisClient } from './redis-client.js'
import { DELETE, RELEASE, TAG, variantId, WRITE } from './redis-layout.js'
import { InvalidationSubscription } from './subscription.js'

export { type RedisHealth, redisHealth } from './health.js'
export { createRedisClient, type RedisClient, type RedisConnection } from './redis-client.js'

const storeOption = optionChecks('RedisStore')

/** Bytes of entries (heads and bodies) kept to be reused while Redis answers them unchanged (see #built). */
const BUILT_BYTES = 1024 * 1024
/** Larger entries are rebuilt on every read: their parse is small beside their transfer. */
const BUILT_ENTRY_BYTES = 64 * 1024

export interface RedisStoreOptions {
  /** An ioredis client you own (the store never closes it, and uses it only while it is connected). */
  client?: RedisClient
  /** Or a URL: the store makes its own client (failing fast while Redis is down) and closes it. */
  url?: string
  /** Or a Redis Cluster: some of its nodes' URLs (the store makes its own cluster client). */
  cluster?: string[]
  /** Or a Sentinel group: the sentinels' URLs, with `name`. */
  sentinels?: string[]
  /** The Sentinel group's name (with `sentinels`). */
  name?: string
  /** Prefix for every key, so several caches (or tests) can share one Redis. Default `proxykit:cache:`. */
  prefix?: string
  /** Largest single entry in bytes (default 8 MiB); bigger bodies are abandoned while they stream. */
  maxEntrySize?: number
  /**
   * Bytes of an in-process tier in front of Redis (default 0: none). A hit there costs what a
   * MemoryStore hit costs; a miss there reads Redis and fills it. Invalidations (delete, deleteTag, a new
   * write of a URL) reach every instance's tier through Redis pub/sub; while that subscription is not up
   * the tier is dropped and bypassed. A local copy lives until its shared entry stops being fresh at most.
   */
  local?: number
  /**
   * Milliseconds between the local tier's heartbeats (default 1000): each instance publishes one on the
   * invalidation channel and drops its tier when its own has not come back for three of them.
   */
  heartbeat?: number
  /**
   * Milliseconds a lookup (`get`, and the collapsing lock's `acquire` and `locked`) may take (default
   * 2000): past it the call fails and the cache goes to the origin, whatever the client's own timeouts
   * and retries (a cluster client retries a command through a failover) would have waited.
   */
  timeout?: number
}

/** A store shared by several gateway instances: binary-safe bodies, entries expire with their TTL. */
export class RedisStore implements CacheStore {
  readonly client: RedisClient
  readonly prefix: string
  readonly maxEntrySize: number
  /** What the in-process tier did: hits served from it, and times it was dropped (its subscription lost). */
  readonly localStats = { hits: 0, drops: 0 }
  #owned: boolean
  #local: MemoryStore | null = null
  #localOptions: { maxSize: number; maxEntrySize: number } | null = null
  /** The local tier is used only while the invalidation channel is subscribed. */
  #localTrusted = false
  /** Bumped by every invalidation: a Redis read that an invalidation overtook fills nothing. */
  #generation = 0
  #subscription: InvalidationSubscription | null = null
  readonly #timeout: number
  readonly #channel: string
  /** Lookups sent and not answered yet. */
  #lookups = 0
  /**
   * The entries last built from Redis's answers (by variant field and key, oldest first), with the head's
   * bytes: an answer with the same head and body bytes returns the same entry object instead of parsing
   * the head again, so a hit's head fields (cached on the entry, hit.ts) are not rebuilt on every shared
   * hit either. Only byte-identical answers are reused; bodies are copied in, so that a reply's buffer is
   * not kept, and the whole is bounded by BUILT_BYTES.
   */
  #built = new Map<string, { head: Buffer; entry: CacheEntry; bytes: number }>()
  #builtBytes = 0

  constructor(options: RedisStoreOptions) {
    const given = [options.client, options.url, options.cluster, options.sentinels].filter(
      (x) => x !== undefined,
    )
    if (given.length !== 1)
      throw storeOption.invalid(
        'client, url, cluster, sentinels',
        'pass one of client (an ioredis instance), url, cluster or sentinels',
      )
    this.prefix = options.prefix ?? 'proxykit:cache:'
    this.maxEntrySize = storeOption.integer(
      options.maxEntrySize,
      'maxEntrySize',
      8 * 1024 * 1024,
      1,
      'must be a positive integer (bytes)',
    )
    this.#owned = options.client === undefined
    this.#channel = `${this.prefix}invalidate`
    const local = storeOption.integer(
      options.local,
      'local',
      0,
      0,
      'must be a whole number of bytes (0: no local tier)',
    )
    this.#timeout = storeOption.integer(
      options.timeout,
      'timeout',
      2000,
      1,
      'must be a positive whole number of milliseconds',
    )
    const heartbeat = storeOption.integer(
      options.heartbeat,
      'heartbeat',
      1000,
      1,
      'must be a positive whole number of milliseconds',
    )
    if (options.client !== undefined) this.client = options.client
    else {
      const redisOptions: RedisOptions = {
        // While Redis is down, commands fail at once (the cache bypasses) instead of queueing.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        commandTimeout: 2000,
        retryStrategy: (times) => Math.min(times * 200, 2000),
      }
      this.client = redisClient(options as RedisConnection, redisOptions, storeOption)
      // Connection errors surface as failed commands, which the cache logs; keep them off 'error'.
      this.client.on('error', () => {})
    }
    if (local > 0) {
      this.#localOptions = {
        maxSize: local,
        maxEntrySize: Math.min(this.maxEntrySize, defaultMaxEntrySize(local)),
      }
      this.#local = new MemoryStore(this.#localOptions)
      this.#subscription = new InvalidationSubscription(this.client, this.#channel, heartbeat, {
        message: (text) => this.#invalidated(text),
        lost: () => this.#dropLocal(),
        confirmed: () => {
          // Invalidations before this were not heard, but the tier was dropped when they could have been
          // missed, and a read begun before it fills nothing.
          this.#generation++
          this.#localTrusted = true
        },
      })
    }
  }

  /**
   * Entries and bytes in the local tier, whether it is trusted (its subscription confirmed), and the
   * node (`host:port`) the subscription is on (null without a tier).
   */
  get localTier(): { count: number; size: number; trusted: boolean; node: string | null } | null {
    if (this.#local === null) return null
    return {
      count: this.#local.count,
      size: this.#local.size,
      trusted: this.#localTrusted,
      node: this.#subscription?.node ?? null,
    }
  }

  #dropLocal(): void {
    this.#generation++
    const wasTrusted = this.#localTrusted
    this.#localTrusted = false
    if (this.#local === null) return
    const held = this.#local.count + this.#local.pending > 0
    if (held) this.#local = new MemoryStore(this.#localOptions!)
    if (held || wasTrusted) this.localStats.drops++
  }

  #invalidated(message: string): void {
    this.#generation++
    const local = this.#local
    if (local === null) return
    const what = message.slice(2)
    if (message.startsWith('u:')) local.delete({ url: what })
    else if (message.startsWith('t:')) local.deleteTag(what)
  }

  /** Tells every instance's local tier (this one's at once) that `what` changed. */
  #announce(message: string): void {
    if (this.#local === null) return
    this.#invalidated(message)
    this.client.publish(this.#channel, message).catch(() => {})
  }

  /** Keeps a copy of what Redis answered, unless an invalidation came meanwhile; never past freshness. */
  #fill(key: CacheKey, entry: CacheEntry, generation: number): void {
    if (!this.#localTrusted || generation !== this.#generation) return
    const deleteAt = Math.min(entry.deleteAt, staleAt(entry.policy))
    if (!(deleteAt > Date.now())) return
    const { body, ...head } = entry
    const w = this.#local!.createWriteStream(key, { ...head, deleteAt })
    w?.end(body)
  }

  /** Resolves once the connection is up (or rejects after `timeoutMs`). */
  async ready(timeoutMs = 5000): Promise<void> {
    if (this.client.status === 'ready') return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady)
        reject(new Error(`Redis not ready within ${timeoutMs} ms`))
      }, timeoutMs)
      const onReady = () => {
        clearTimeout(timer)
        resolve()
      }
      this.client.once('ready', onReady)
    })
  }

  #urlKey(url: string): string {
    return `${this.prefix}u:${url}`
  }

  #tagKey(tag: string): string {
    return `${this.prefix}t:${tag}`
  }

  #lockKey(url: string): string {
    return `${this.prefix}l:${url}`
  }

  /**
   * Whether commands can run now. A client you pass may queue commands while Redis is down (ioredis's
   * offline queue, on by default), which would hold every request until it reconnects: the store asks
   * only a connected client, so the cache bypasses at once instead. A lazy client is told to connect.
   */
  #connected(): boolean {
    const status = this.client.status
    if (status === 'ready') return true
    if (status === 'wait') this.client.connect().catch(() => {})
    return false
  }

  /**
   * A command that holds a client request, failed after `timeout` ms (its late answer is dropped);
   * `settled` runs when the command itself settles, answered or not.
   */
  #bounded<T>(command: Promise<T>, name: string, settled?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Redis ${name}: no answer within ${this.#timeout} ms`)),
        this.#timeout,
      )
      command.then(
        (value) => {
          clearTimeout(timer)
          settled?.()
          resolve(value)
        },
        (err: unknown) => {
          clearTimeout(timer)
          settled?.()
          reject(err)
        },
      )
    })
  }

  /**
   * HGETALL of an entry's hash, its values as Buffers. A lookup with no other one in flight is sent at
   * once: a client with autopipelining (the gateway's) would hold it until the next turn of the event loop
   * and wrap it in a pipeline of one, which only pays when other commands can join; under load lookups
   * overlap and go through autopipelining as before.
   */
  readonly #lookupDone = (): void => {
    this.#lookups--
  }

  #readHash(key: string): Promise<Record<string, Buffer>> {
    let read: Promise<Record<string, Buffer>>
    if (this.#lookups === 0) {
      const command = new Command('hgetall', [key], {
        replyEncoding: null,
        keyPrefix: this.client.options.keyPrefix,
      })
      this.client.sendCommand(command)
      read = command.promise as Promise<Record<string, Buffer>>
    } else read = this.client.hgetallBuffer(key)
    this.#lookups++
    return this.#bounded(read, 'HGETALL', this.#lookupDone)
  }

  #build(slot: string, raw: Buffer, head: CachedResponse, body: Buffer): CacheEntry {
    const old = this.#built.get(slot)
    if (old !== undefined) {
      this.#built.delete(slot)
      this.#builtBytes -= old.bytes
    }
    const bytes = raw.length + body.length
    if (bytes > BUILT_ENTRY_BYTES) return { ...head, body }
    const own = Buffer.allocUnsafeSlow(body.length)
    body.copy(own)
    const entry = { ...head, body: own }
    this.#built.set(slot, { head: Buffer.from(raw), entry, bytes })
    this.#builtBytes += bytes
    for (const [oldest, held] of this.#built) {
      if (this.#builtBytes <= BUILT_BYTES) break
      this.#built.delete(oldest)
      this.#builtBytes -= held.bytes
    }
    return entry
  }

  // Not `async`: a local-tier hit is returned as it is, as the memory store returns its hits, so the
  // lookup decides it in the same turn (a promise would add its allocations and a microtask to every hit).
  get(key: CacheKey): CacheEntry | null | undefined | Promise<CacheEntry | null | undefined> {
    if (this.#localTrusted) {
      const near = this.#local!.get(key)
      if (near) {
        this.localStats.hits++
        return near
      }
    }
    return this.#getShared(key)
  }

  async #getShared(key: CacheKey): Promise<CacheEntry | null | undefined> {
    if (!this.#connected()) throw new Error(`Redis is not connected (${this.client.status})`)
    const generation = this.#generation
    const k = this.#urlKey(key.url)
    const fields = await this.#readHash(k)
    let any = false
    const now = Date.now()
    const expired: string[] = []
    for (const name in fields) {
      if (!name.startsWith('m:')) continue
      const raw = fields[name]!
      const slot = `${name}\n${k}`
      // The entry built from these head bytes before, if any.
      const built = this.#built.get(slot)
      const same = built?.head.equals(raw) ? built : undefined
      let head: CachedResponse
      if (same !== undefined) head = same.entry
      else {
        try {
          head = JSON.parse(raw.toString('utf8')) as CachedResponse
        } catch {
          expired.push(name)
          continue
        }
      }
      if (head.deleteAt <= now) {
        expired.push(name, `b:${name.slice(2)}`)
        continue
      }
      any = true
      if (!varyMatches(head.vary, key.headers)) continue
      const body = fields[`b:${name.slice(2)}`]
      if (body === undefined || body.length !== head.size) continue
      let entry: CacheEntry
      if (same?.entry.body.equals(body)) {
        entry = same.entry
        // The most recently read last: the bound drops the least recently read first.
        this.#built.delete(slot)
        this.#built.set(slot, same)
      } else
        entry = this.#build(
          slot,
          raw,
          same === undefined ? head : (JSON.parse(raw.toString('utf8')) as CachedResponse),
          body,
        )
      if (this.#local !== null) this.#fill(key, entry, generation)
      return entry
    }
    if (expired.length > 0) this.client.hdel(k, ...expired).catch(() => {})
    return any ? null : undefined
  }

  createWriteStream(key: CacheKey, value: CachedResponse): Writable | undefined {
    if (!this.#connected()) return undefined
    const chunks: Buffer[] = []
    let size = 0
    // Growing past the entry limit abandons the entry: destroyed without an error (see MemoryStore).
    const writer: Writable = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        size += chunk.length
        if (size > this.maxEntrySize) {
          chunks.length = 0
          cb()
          writer.destroy()
          return
        }
        chunks.push(chunk)
        cb()
      },
      final: (cb) => {
        const ttl = Math.max(1, Math.ceil(value.deleteAt - Date.now()))
        const vid = variantId(value.vary)
        const head = JSON.stringify({ ...value, size })
        const body = Buffer.concat(chunks, size)
        chunks.length = 0
        Promise.all(value.tags.map((t) => this.client.eval(TAG, 1, this.#tagKey(t), key.url, String(ttl))))
          .then(() =>
            this.client.eval(
              WRITE,
              1,
              this.#urlKey(key.url),
              `m:${vid}`,
              head,
              `b:${vid}`,
              body,
              String(ttl),
            ),
          )
          .then(
            () => {
              // Another instance's local copy of this URL may be the entry just replaced.
              this.#announce(`u:${key.url}`)
              cb()
            },
            (err: Error) => cb(err),
          )
      },
    })
    return writer
  }

  async delete(key: { url: string }): Promise<number> {
    const n = Number(await this.client.eval(DELETE, 1, this.#urlKey(key.url)))
    this.#announce(`u:${key.url}`)
    return n
  }

  async deleteTag(tag: string): Promise<number> {
    const tagKey = this.#tagKey(tag)
    const urls = await this.client.smembers(tagKey)
    this.#announce(`t:${tag}`)
    if (urls.length === 0) return 0
    const counts = await Promise.all(urls.map((u) => this.client.eval(DELETE, 1, this.#urlKey(u))))
    // Only the members read: a URL tagged meanwhile keeps its membership for the next purge.
    await this.client.srem(tagKey, ...urls)
    return counts.reduce<number>((n, c) => n + Number(c), 0)
  }

  async acquire(key: { url: string }, ttlMs: number): Promise<string | null> {
    const token = randomBytes(12).toString('base64url')
    const taken = await this.#bounded(
      this.client.set(this.#lockKey(key.url), token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
      'SET NX',
    )
    return taken === 'OK' ? token : null
  }

  async release(key: { url: string }, token: string): Promise<void> {
    await this.client.eval(RELEASE, 1, this.#lockKey(key.url), token)
  }

  async locked(key: { url: string }): Promise<boolean> {
    return (await this.#bounded(this.client.exists(this.#lockKey(key.url)), 'EXISTS')) === 1
  }

  async close(): Promise<void> {
    this.#built.clear()
    this.#builtBytes = 0
    if (this.#subscription !== null) {
      this.#subscription.close()
      this.#dropLocal()
    }
    if (!this.#owned) return
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }
}

export default RedisStore
