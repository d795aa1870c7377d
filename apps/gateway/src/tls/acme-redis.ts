import { createHash, randomBytes } from 'node:crypto'
import type { RedisClient } from '@proxykit/cache/redis'
import type { AcmeConfig } from '../config/types.js'

/** A certificate and its key as kept in Redis, with what identifies it. */
export interface StoredCert {
  cert: string
  key: string
  fingerprint: string
}

// Compare-and-delete / compare-and-extend: only the instance holding the lock (its token) may release or
// extend it, so an orderer that outlived its lock (a long pause) cannot free another instance's.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`
// The certificate is written only while its orderer still holds the lock (KEYS[1], same hash slot as
// KEYS[2]): an order whose lock expired and was taken over does not overwrite the newer instance's work.
const STORE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'cert', ARGV[2], 'key', ARGV[3], 'fingerprint', ARGV[4])
redis.call('HDEL', KEYS[2], 'failedAt', 'failure')
return 1`

/**
 * The writes an order depends on (its challenge answers, its certificate, its lock's release) are tried
 * three times: a command timing out once on a busy Redis would otherwise cost another order.
 */
async function insist<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write()
    } catch (err) {
      if (attempt >= 3) throw err
      await new Promise((r) => setTimeout(r, 200 * attempt))
    }
  }
}

/** How long HTTP-01 answers stay in Redis: an order that takes longer has failed anyway. */
const CHALLENGE_TTL_MS = 10 * 60_000

/**
 * The ACME state every instance on one Redis shares (under the configured prefix): the account key, the
 * certificate with its key, the lock that lets one instance order at a time, the last failure (so the
 * others wait out the retry delay rather than repeat a refused order), and the HTTP-01 answers (the CA's
 * check may reach any instance behind the balancer). Keys of one certificate share a hash tag (the
 * directory and the names), so the lock and the certificate sit in one slot of a Redis Cluster and are
 * written together by one script.
 */
export class AcmeRedisState {
  readonly #client: RedisClient
  readonly #lock: string
  readonly #cert: string
  readonly #account: string
  readonly #challenges: string

  constructor(client: RedisClient, prefix: string, config: AcmeConfig) {
    this.#client = client
    const tag = createHash('sha256')
      .update(`${config.directory}\n${config.domains.join(',')}`)
      .digest('hex')
      .slice(0, 16)
    const base = `${prefix}acme:{${tag}}:`
    this.#lock = `${base}lock`
    this.#cert = `${base}cert`
    // One account per directory, whatever names it orders.
    this.#account = `${prefix}acme:account:${createHash('sha256').update(config.directory).digest('hex').slice(0, 16)}`
    this.#challenges = `${prefix}acme:http01:`
  }

  /** Takes the ordering lock for `ttlMs`; its token, or null when another instance holds it. */
  async acquire(ttlMs: number): Promise<string | null> {
    const token = randomBytes(12).toString('base64url')
    return (await this.#client.set(this.#lock, token, 'PX', ttlMs, 'NX')) === 'OK' ? token : null
  }

  /** Extends a held lock; false when it was lost (expired, or taken over). */
  async extend(token: string, ttlMs: number): Promise<boolean> {
    return Number(await this.#client.eval(EXTEND, 1, this.#lock, token, String(ttlMs))) === 1
  }

  async release(token: string): Promise<void> {
    await insist(() => this.#client.eval(RELEASE, 1, this.#lock, token))
  }

  async locked(): Promise<boolean> {
    return (await this.#client.exists(this.#lock)) === 1
  }

  /** Stores an issued certificate if `token` still holds the lock; false when the lock was lost. */
  async store(token: string, cert: StoredCert): Promise<boolean> {
    const args = [token, cert.cert, cert.key, cert.fingerprint]
    return Number(await insist(() => this.#client.eval(STORE, 2, this.#lock, this.#cert, ...args))) === 1
  }

  async fingerprint(): Promise<string | null> {
    return this.#client.hget(this.#cert, 'fingerprint')
  }

  async load(): Promise<StoredCert | null> {
    const [cert, key, fingerprint] = await this.#client.hmget(this.#cert, 'cert', 'key', 'fingerprint')
    if (cert == null || key == null || fingerprint == null) return null
    return { cert, key, fingerprint }
  }

  /** Records a failed order, so that every instance waits out the retry delay. */
  async failed(reason: string): Promise<void> {
    const at = String(Date.now())
    await insist(() => this.#client.hset(this.#cert, 'failedAt', at, 'failure', reason))
  }

  /** When the last order failed and why (null: none since the last success). */
  async lastFailure(): Promise<{ at: number; reason: string } | null> {
    const [at, reason] = await this.#client.hmget(this.#cert, 'failedAt', 'failure')
    return at == null ? null : { at: Number(at), reason: reason ?? '' }
  }

  /** The account key: the stored one, else `create()`'s, stored unless another instance stored one first. */
  async accountKey(create: () => Promise<string>): Promise<string> {
    const stored = await insist(() => this.#client.get(this.#account))
    if (stored !== null) return stored
    const key = await create()
    await insist(() => this.#client.set(this.#account, key, 'NX'))
    return (await insist(() => this.#client.get(this.#account)))!
  }

  async setChallenge(token: string, keyAuthorization: string): Promise<void> {
    await insist(() => this.#client.set(this.#challenges + token, keyAuthorization, 'PX', CHALLENGE_TTL_MS))
  }

  async challenge(token: string): Promise<string | null> {
    return this.#client.get(this.#challenges + token)
  }

  async removeChallenge(token: string): Promise<void> {
    await this.#client.del(this.#challenges + token)
  }
}
