import { constants as bufferConstants } from 'node:buffer'
import { Writable } from 'node:stream'
import { optionChecks } from '@proxykit/core'
import {
  type CachedResponse,
  type CacheEntry,
  type CacheKey,
  type CacheStore,
  sameVariant,
  varyMatches,
} from '../store.js'

const storeOption = optionChecks('MemoryStore')

export interface MemoryStoreOptions {
  /**
   * Total bytes held (bodies plus an estimate of heads), counting the bytes buffered by writes still in
   * progress; least recently used entries go first.
   */
  maxSize?: number
  /** Largest single entry; a body that grows past it is abandoned while it streams. */
  maxEntrySize?: number
}

export const MEMORY_DEFAULTS = { maxSize: 64 * 1024 * 1024, maxEntrySize: 8 * 1024 * 1024 }

/**
 * The largest entry when none is given: 8 MiB, or an eighth of a smaller `maxSize` (as 8 MiB is of the
 * default 64 MiB), so a small cache works without naming its entry size and still holds several entries.
 */
export function defaultMaxEntrySize(maxSize: number): number {
  return Math.max(1, Math.min(MEMORY_DEFAULTS.maxEntrySize, Math.floor(maxSize / 8)))
}

/**
 * The bounds of a size in bytes: byte counts stay exact integers below 2^53, and one entry is buffered
 * into one Buffer before it is stored.
 */
export const SIZE_LIMITS = { maxSize: Number.MAX_SAFE_INTEGER, maxEntrySize: bufferConstants.MAX_LENGTH }

/** Why `value` is not a valid size option (`name` bytes, 1 to `max`), or null. */
export function sizeProblem(name: string, value: unknown, max: number): string | null {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max) return null
  return `${name} must be a whole number of bytes from 1 to ${max}, got ${String(value)}`
}

interface Slot {
  url: string
  entry: CacheEntry
  bytes: number
}

function headBytes(value: CachedResponse): number {
  let n = 256
  for (const k in value.headers) {
    const v = value.headers[k]!
    n += k.length + (Array.isArray(v) ? v.reduce((a, s) => a + s.length + 4, 0) : v.length) + 4
  }
  return n
}

/**
 * The default store: an LRU in this process, bounded by total bytes and by entry size. Writes in progress
 * count against the bound as they buffer (each could hold up to `maxEntrySize`, and nothing limits how many
 * misses are in flight): a chunk that would push stored plus in-flight bytes past `maxSize` first evicts
 * least recently used entries (as Varnish's LRU nuking makes room for an object being fetched), and when
 * the writes in progress alone would pass the bound the write is abandoned (destroyed without an error, so
 * the client's copy goes on and the cache counts it as not stored).
 */
export class MemoryStore implements CacheStore {
  readonly maxSize: number
  readonly maxEntrySize: number
  #bytes = 0
  /** Bytes buffered (and heads reserved) by writes in progress. */
  #pending = 0
  /** Every slot, least recently used first (a Set keeps insertion order). */
  #lru = new Set<Slot>()
  /** The last slot of #lru (or null when unknown): a hit on it needs no reordering. */
  #newest: Slot | null = null
  #byUrl = new Map<string, Slot[]>()
  #byTag = new Map<string, Set<string>>()

  constructor(options: MemoryStoreOptions = {}) {
    this.maxSize = options.maxSize ?? MEMORY_DEFAULTS.maxSize
    const sizeWrong = sizeProblem('maxSize', this.maxSize, SIZE_LIMITS.maxSize)
    if (sizeWrong !== null) throw storeOption.invalid('maxSize', sizeWrong.slice('maxSize '.length))
    this.maxEntrySize = options.maxEntrySize ?? defaultMaxEntrySize(this.maxSize)
    const entryWrong = sizeProblem('maxEntrySize', this.maxEntrySize, SIZE_LIMITS.maxEntrySize)
    if (entryWrong !== null)
      throw storeOption.invalid('maxEntrySize', entryWrong.slice('maxEntrySize '.length))
  }

  /** Bytes currently held by stored entries. */
  get size(): number {
    return this.#bytes
  }

  /** Bytes buffered by writes in progress; `size + pending` never exceeds `maxSize`. */
  get pending(): number {
    return this.#pending
  }

  /** Entries currently held. */
  get count(): number {
    return this.#lru.size
  }

  get(key: CacheKey): CacheEntry | null | undefined {
    const slots = this.#byUrl.get(key.url)
    if (slots === undefined) return undefined
    const now = Date.now()
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!
      if (slot.entry.deleteAt <= now) {
        this.#remove(slot)
        return this.get(key)
      }
      if (varyMatches(slot.entry.vary, key.headers)) {
        // Moving a slot to the end of the Set on every hit churns the Set's table, which shows in a hit's
        // profile (`node bench/cache.mjs`); a hot entry is usually the newest already.
        if (this.#newest !== slot) {
          this.#lru.delete(slot)
          this.#lru.add(slot)
          this.#newest = slot
        }
        return slot.entry
      }
    }
    return null
  }

  createWriteStream(key: CacheKey, value: CachedResponse): Writable | undefined {
    const chunks: Buffer[] = []
    let size = 0
    const head = headBytes(value)
    if (head > this.maxEntrySize || !this.#reserve(head)) return undefined
    /** Bytes of #pending this write holds, until it ends or is abandoned. */
    let reserved = head
    const release = () => {
      this.#pending -= reserved
      reserved = 0
    }
    // Growing past the entry limit, or past what the store may buffer, abandons the entry: the stream is
    // destroyed (without an error), which the cache sees as "not stored" while the client's copy of the
    // body goes on untouched.
    const writer: Writable = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        size += chunk.length
        if (size + head > this.maxEntrySize || !this.#reserve(chunk.length)) {
          chunks.length = 0
          release()
          cb()
          writer.destroy()
          return
        }
        reserved += chunk.length
        chunks.push(chunk)
        cb()
      },
      final: (cb) => {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
        release()
        this.#insert(key.url, { ...value, size, body }, size + head)
        cb()
      },
      destroy: (err, cb) => {
        chunks.length = 0
        release()
        cb(err)
      },
    })
    return writer
  }

  delete(key: { url: string }): number {
    const slots = this.#byUrl.get(key.url)
    if (slots === undefined) return 0
    const gone = [...slots]
    for (const s of gone) this.#remove(s)
    return gone.length
  }

  deleteTag(tag: string): number {
    const urls = this.#byTag.get(tag)
    if (urls === undefined) return 0
    this.#byTag.delete(tag)
    let removed = 0
    for (const url of urls) removed += this.delete({ url })
    return removed
  }

  /**
   * Counts `n` more in-flight bytes, evicting least recently used entries to keep stored plus in-flight
   * bytes within `maxSize`; false (nothing counted) when the writes in progress alone would pass it.
   */
  #reserve(n: number): boolean {
    if (this.#pending + n > this.maxSize) return false
    this.#pending += n
    this.#evict(null)
    return true
  }

  /** Evicts least recently used entries (never `keep`) until stored plus in-flight bytes fit. */
  #evict(keep: Slot | null): void {
    while (this.#bytes + this.#pending > this.maxSize) {
      const oldest = this.#lru.values().next().value as Slot | undefined
      if (oldest === undefined || oldest === keep) break
      this.#remove(oldest)
    }
  }

  #insert(url: string, entry: CacheEntry, bytes: number): void {
    let slots = this.#byUrl.get(url)
    if (slots === undefined) {
      slots = []
      this.#byUrl.set(url, slots)
    }
    for (const old of slots) {
      if (sameVariant(old.entry.vary, entry.vary)) {
        this.#remove(old)
        break
      }
    }
    slots = this.#byUrl.get(url) ?? []
    if (!this.#byUrl.has(url)) this.#byUrl.set(url, slots)
    const slot: Slot = { url, entry, bytes }
    slots.push(slot)
    this.#lru.add(slot)
    this.#newest = slot
    this.#bytes += bytes
    for (const tag of entry.tags) {
      let set = this.#byTag.get(tag)
      if (set === undefined) {
        set = new Set()
        this.#byTag.set(tag, set)
      }
      set.add(url)
    }
    this.#evict(slot)
  }

  #remove(slot: Slot): void {
    if (!this.#lru.delete(slot)) return
    if (this.#newest === slot) this.#newest = null
    this.#bytes -= slot.bytes
    const slots = this.#byUrl.get(slot.url)
    if (slots !== undefined) {
      const i = slots.indexOf(slot)
      if (i !== -1) slots.splice(i, 1)
      if (slots.length === 0) {
        this.#byUrl.delete(slot.url)
        for (const tag of slot.entry.tags) {
          const set = this.#byTag.get(tag)
          set?.delete(slot.url)
          if (set?.size === 0) this.#byTag.delete(tag)
        }
      }
    }
  }
}
