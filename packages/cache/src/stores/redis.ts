import { createHash } from 'node:crypto'
import { Writable } from 'node:stream'
import { Redis, type RedisOptions } from 'ioredis'
import {
  type CachedResponse,
  type CacheEntry,
  type CacheKey,
  type CacheStore,
  varyMatches,
} from '../store.js'

export interface RedisStoreOptions {
  /** An ioredis client you own (the store never closes it, and uses it only while it is connected). */
  client?: Redis
  /** Or a URL: the store makes its own client (failing fast while Redis is down) and closes it. */
  url?: string
  /** Prefix for every key, so several caches (or tests) can share one Redis. Default `proxykit:cache:`. */
  prefix?: string
  /** Largest single entry in bytes (default 8 MiB); bigger bodies are abandoned while they stream. */
  maxEntrySize?: number
}

// One hash per URL: `m:<variant>` holds the JSON head, `b:<variant>` the body bytes. The hash lives as long
// as its longest-lived variant (PTTL only ever grows); expired variants are skipped and removed on read.
// Tags are sets of URLs. Writes run as one script so a reader never sees a head without its body.
const WRITE = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
local ttl = tonumber(ARGV[5])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[6])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`

// Deletes the keys given and answers how many entries (variants: `m:` fields of the URL hashes) went, in
// one step so that the count is what was deleted. Tag sets among the keys are deleted, not counted.
const DELETE = `
local n = 0
for i = 1, #KEYS do
  if redis.call('TYPE', KEYS[i]).ok == 'hash' then
    for _, field in ipairs(redis.call('HKEYS', KEYS[i])) do
      if string.sub(field, 1, 2) == 'm:' then n = n + 1 end
    end
  end
  redis.call('DEL', KEYS[i])
end
return n`

function variantId(vary: CachedResponse['vary']): string {
  if (vary === null) return '-'
  const names = Object.keys(vary).sort()
  return createHash('sha1')
    .update(JSON.stringify(names.map((n) => [n, vary[n]])))
    .digest('base64url')
}

/** A store shared by several gateway instances: binary-safe bodies, entries expire with their TTL. */
export class RedisStore implements CacheStore {
  readonly client: Redis
  readonly prefix: string
  readonly maxEntrySize: number
  #owned: boolean

  constructor(options: RedisStoreOptions) {
    if (options.client === undefined && typeof options.url !== 'string')
      throw new TypeError('RedisStore: pass either client (an ioredis instance) or url')
    this.prefix = options.prefix ?? 'proxykit:cache:'
    this.maxEntrySize = options.maxEntrySize ?? 8 * 1024 * 1024
    if (!(Number.isInteger(this.maxEntrySize) && this.maxEntrySize > 0))
      throw new TypeError('RedisStore: maxEntrySize must be a positive integer (bytes)')
    this.#owned = options.client === undefined
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
      this.client = new Redis(options.url!, redisOptions)
      // Connection errors surface as failed commands, which the cache logs; keep them off 'error'.
      this.client.on('error', () => {})
    }
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

  async get(key: CacheKey): Promise<CacheEntry | null | undefined> {
    if (!this.#connected()) throw new Error(`Redis is not connected (${this.client.status})`)
    const k = this.#urlKey(key.url)
    const fields = await this.client.hgetallBuffer(k)
    let any = false
    const now = Date.now()
    const expired: string[] = []
    for (const name in fields) {
      if (!name.startsWith('m:')) continue
      let head: CachedResponse
      try {
        head = JSON.parse(fields[name]!.toString('utf8')) as CachedResponse
      } catch {
        expired.push(name)
        continue
      }
      if (head.deleteAt <= now) {
        expired.push(name, `b:${name.slice(2)}`)
        continue
      }
      any = true
      if (!varyMatches(head.vary, key.headers)) continue
      const body = fields[`b:${name.slice(2)}`]
      if (body === undefined || body.length !== head.size) continue
      return { ...head, body }
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
        const tagKeys = value.tags.map((t) => `${this.prefix}t:${t}`)
        this.client
          .eval(
            WRITE,
            1 + tagKeys.length,
            this.#urlKey(key.url),
            ...tagKeys,
            `m:${vid}`,
            head,
            `b:${vid}`,
            Buffer.concat(chunks, size),
            String(ttl),
            key.url,
          )
          .then(
            () => cb(),
            (err: Error) => cb(err),
          )
      },
    })
    return writer
  }

  async delete(key: { url: string }): Promise<number> {
    return Number(await this.client.eval(DELETE, 1, this.#urlKey(key.url)))
  }

  async deleteTag(tag: string): Promise<number> {
    const tagKey = `${this.prefix}t:${tag}`
    const urls = await this.client.smembers(tagKey)
    const keys = urls.map((u) => this.#urlKey(u))
    return Number(await this.client.eval(DELETE, 1 + keys.length, tagKey, ...keys))
  }

  async close(): Promise<void> {
    if (!this.#owned) return
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }
}

export default RedisStore
