// Over ~300 lines for a reason: one ACME client's life (account, order, challenge answers, renewal, the
// Redis-shared order with its lock), in one class whose steps share its state; Redis storage is acme-redis.ts.
import { X509Certificate } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { Agent } from 'node:https'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import * as acme from 'acme-client'
import type { Logger } from 'pino'
import type { AcmeConfig, TlsConfig } from '../config/types.js'
import type { AcmeRedisState, StoredCert } from './acme-redis.js'
import type { CertStore } from './certs.js'
import type { AcmeChallenges } from './redirect.js'

/** Where the account key and the certificate of an ACME config live on disk. */
export function acmeFiles(config: AcmeConfig): { accountKey: string; cert: string; key: string } {
  const stem = config.domains[0]!.replace(/^\*\./, '_wildcard.')
  return {
    accountKey: join(config.storage, 'account-key.pem'),
    cert: join(config.storage, `${stem}.pem`),
    key: join(config.storage, `${stem}-key.pem`),
  }
}

/**
 * The listener's certificates with the ACME one first when it is on disk (it then serves its domains
 * and is the default), so that a start or a reload serves what an earlier run obtained.
 */
export function withAcmeCert(tls: TlsConfig): TlsConfig {
  if (tls.acme === null) return tls
  const files = acmeFiles(tls.acme)
  if (!existsSync(files.cert) || !existsSync(files.key)) return tls
  const entry = { cert: files.cert, key: files.key }
  return { ...tls, certs: [entry, ...tls.certs.filter((c) => c.cert !== entry.cert)] }
}

async function writeAtomically(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode })
  await rename(tmp, file)
}

const RETRY_AFTER_FAILURE_MS = 60 * 60_000
const CHECK_INTERVAL_MS = 12 * 60 * 60_000
/** With Redis: how often an instance looks for a certificate another one stored (one HGET). */
const SYNC_INTERVAL_MS = 60_000
/** With Redis: the ordering lock's lifetime, extended every third of it while the order runs. */
const LOCK_TTL_MS = 60_000
/** With Redis: how often an instance waiting on another's order looks for its outcome. */
const WAIT_POLL_MS = 1000
/** With Redis unreachable (or a cluster not ready yet): no order (it could not be shared); tried again after this. */
const REDIS_RETRY_MS = 5000

function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256
}

/**
 * Automatic certificates (RFC 8555) through acme-client: an account (its key kept on disk), an order for
 * `domains` answered by HTTP-01 on the redirect listener (`challenges`), the certificate and its key
 * written beside it and swapped into the TLS listener's certificates. Checked at start and every 12
 * hours; renewed once less than `renewBefore` of its validity is left. A failed order is logged with the
 * CA's reason and retried within the hour, and the certificate in use stays.
 *
 * With `shared` (the config has `redis`), every instance on that Redis serves one certificate: the
 * account key, the certificate and the HTTP-01 answers live there too; an instance orders only while it
 * holds the lock (another that finds it held waits for the outcome and loads the stored certificate), and
 * every instance looks for a newer stored certificate every minute, swapping it in and onto its disk.
 */
export class AcmeManager {
  readonly #config: AcmeConfig
  readonly #store: CertStore
  readonly #challenges: AcmeChallenges
  readonly #logger: Logger
  readonly #shared: AcmeRedisState | null
  readonly #tokens = new Map<string, string>()
  readonly #abort = new AbortController()
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #redisDown = false
  #failureSeen = 0

  constructor(
    config: AcmeConfig,
    store: CertStore,
    challenges: AcmeChallenges,
    logger: Logger,
    shared: AcmeRedisState | null = null,
  ) {
    this.#config = config
    this.#store = store
    this.#challenges = challenges
    this.#logger = logger.child({ acme: config.directory })
    this.#shared = shared
  }

  start(): void {
    const shared = this.#shared
    this.#challenges.http01 = (token) =>
      this.#tokens.get(token) ?? (shared === null ? null : shared.challenge(token).catch(() => null))
    if (this.#store.current.certs.length === 0)
      this.#logger.warn(
        { event: 'acme', domains: this.#config.domains },
        'acme: no certificate yet; TLS handshakes are refused until the first order succeeds',
      )
    this.#schedule(0)
  }

  close(): void {
    this.#abort.abort()
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  get #closed(): boolean {
    return this.#abort.signal.aborted
  }

  #schedule(ms: number): void {
    if (this.#closed) return
    if (this.#timer !== null) clearTimeout(this.#timer)
    const next = this.#shared === null ? ms : Math.min(ms, SYNC_INTERVAL_MS)
    this.#timer = setTimeout(
      () => {
        this.#running ??= this.#check()
          .catch((err) => {
            // A certificate file on disk that is not PEM any more, say: logged, never a crash.
            this.#logger.error(
              { event: 'acme', err: (err as Error).message },
              `acme: check failed (${(err as Error).message}); tried again within the hour`,
            )
            this.#schedule(RETRY_AFTER_FAILURE_MS)
          })
          .finally(() => {
            this.#running = null
          })
      },
      Math.max(0, next),
    )
    this.#timer.unref()
  }

  /** Orders a certificate when there is none or it expires within `renewBefore`. */
  async #check(): Promise<void> {
    const files = acmeFiles(this.#config)
    const shared = this.#shared
    if (shared !== null) {
      try {
        await this.#sync(shared, files)
        if (this.#redisDown) this.#logger.info({ event: 'acme' }, 'acme: redis reachable again')
        this.#redisDown = false
      } catch (err) {
        this.#redisUnreachable(err)
      }
    }
    const current = await readFile(files.cert, 'utf8').catch(() => null)
    if (current !== null) {
      const left = Date.parse(new X509Certificate(current).validTo) - Date.now()
      if (left > this.#config.renewBeforeMs) {
        this.#schedule(Math.min(CHECK_INTERVAL_MS, left - this.#config.renewBeforeMs))
        return
      }
    }
    const reason = current === null ? 'no certificate yet' : 'expires within renewBefore'
    if (shared === null) return this.#orderAndSchedule(files, current, reason, null)
    if (this.#redisDown) {
      // Ordering alone would let every instance order its own certificate: wait for Redis.
      this.#schedule(REDIS_RETRY_MS)
      return
    }
    let token: string | null
    try {
      const failure = await shared.lastFailure()
      if (failure !== null && Date.now() - failure.at < RETRY_AFTER_FAILURE_MS) {
        // Checked every minute meanwhile: said once per failure.
        if (this.#failureSeen !== failure.at) {
          this.#failureSeen = failure.at
          this.#logger.warn(
            { event: 'acme', domains: this.#config.domains, reason, failure: failure.reason },
            'acme: the last order (by this or another instance) failed; retried within the hour',
          )
        }
        this.#schedule(failure.at + RETRY_AFTER_FAILURE_MS - Date.now())
        return
      }
      token = await shared.acquire(LOCK_TTL_MS)
    } catch (err) {
      this.#redisUnreachable(err)
      this.#schedule(REDIS_RETRY_MS)
      return
    }
    if (token === null) return this.#waitForOther(shared, current === null ? null : fingerprintOf(current))
    const keep = setInterval(() => {
      shared.extend(token, LOCK_TTL_MS).then(
        (held) => {
          if (!held)
            this.#logger.warn({ event: 'acme' }, 'acme: the ordering lock expired while the order ran')
        },
        () => {},
      )
    }, LOCK_TTL_MS / 3)
    keep.unref()
    try {
      await this.#orderAndSchedule(files, current, reason, token)
    } finally {
      clearInterval(keep)
      await shared.release(token).catch(() => {})
    }
  }

  #redisUnreachable(err: unknown): void {
    if (!this.#redisDown)
      this.#logger.error(
        { event: 'acme', err: (err as Error).message },
        'acme: redis unreachable; serving the certificate on disk, no order until it is back',
      )
    this.#redisDown = true
  }

  /**
   * Another instance holds the ordering lock: waits (bounded by its lock, which it extends while its order
   * runs) until it stores a new certificate (loaded here) or lets the lock go without one (it failed, and
   * said so, or it died: the next check orders or waits out the retry delay).
   */
  async #waitForOther(shared: AcmeRedisState, since: string | null): Promise<void> {
    this.#logger.info(
      { event: 'acme', domains: this.#config.domains },
      'acme: another instance is ordering; waiting for its certificate',
    )
    while (!this.#closed) {
      try {
        await sleep(WAIT_POLL_MS, undefined, { signal: this.#abort.signal, ref: false })
      } catch {
        return
      }
      try {
        const stored = await shared.fingerprint()
        if (stored !== null && stored !== since) break
        if (!(await shared.locked())) break
      } catch {
        // Redis unreachable for a moment: the lock (or its expiry) settles it once it answers.
      }
    }
    this.#schedule(0)
  }

  /**
   * Swaps in the certificate stored in Redis when it differs from the one on disk and lasts at least as
   * long; stores this instance's own certificate when Redis has none (an instance that ran before `redis`
   * was set), so that the others adopt it rather than order theirs.
   */
  async #sync(shared: AcmeRedisState, files: ReturnType<typeof acmeFiles>): Promise<void> {
    const local = await readFile(files.cert, 'utf8').catch(() => null)
    const stored = await shared.fingerprint()
    if (stored === null) {
      if (local === null) return
      const key = await readFile(files.key, 'utf8').catch(() => null)
      const token = key === null ? null : await shared.acquire(LOCK_TTL_MS)
      if (token === null || key === null) return
      try {
        await shared.store(token, { cert: local, key, fingerprint: fingerprintOf(local) })
      } finally {
        await shared.release(token)
      }
      return
    }
    if (local !== null && fingerprintOf(local) === stored) return
    const cert = await shared.load()
    if (cert === null) return
    if (
      local !== null &&
      Date.parse(new X509Certificate(cert.cert).validTo) < Date.parse(new X509Certificate(local).validTo)
    )
      return
    await this.#install(files, cert)
    this.#logger.info(
      {
        event: 'acme',
        domains: this.#config.domains,
        validTo: new X509Certificate(cert.cert).validTo,
        fingerprint: cert.fingerprint,
      },
      'acme: certificate loaded from redis',
    )
  }

  /** Writes a certificate and its key to `storage` and swaps them into the listener. */
  async #install(files: ReturnType<typeof acmeFiles>, cert: { cert: string; key: string }): Promise<void> {
    await mkdir(this.#config.storage, { recursive: true, mode: 0o700 })
    await writeAtomically(files.key, cert.key)
    await writeAtomically(files.cert, cert.cert, 0o644)
    this.#store.commit(this.#store.prepare(withAcmeCert(this.#store.config)))
  }

  async #orderAndSchedule(
    files: ReturnType<typeof acmeFiles>,
    current: string | null,
    reason: string,
    token: string | null,
  ): Promise<void> {
    try {
      await this.#order(files, token)
      this.#schedule(CHECK_INTERVAL_MS)
    } catch (err) {
      const message = (err as Error).message
      this.#logger.error(
        {
          event: 'acme',
          domains: this.#config.domains,
          reason,
          err: message,
          keeping:
            current !== null
              ? files.cert
              : this.#store.current.certs.length > 0
                ? 'the configured certificates'
                : 'none: TLS handshakes are refused',
        },
        `acme: order failed (${message}); the certificate in use stays`,
      )
      await this.#shared?.failed(message).catch(() => {})
      this.#schedule(RETRY_AFTER_FAILURE_MS)
    }
  }

  async #order(files: ReturnType<typeof acmeFiles>, token: string | null): Promise<void> {
    const c = this.#config
    const shared = this.#shared
    await mkdir(c.storage, { recursive: true, mode: 0o700 })
    const onDisk = await readFile(files.accountKey, 'utf8').catch(() => null)
    const create = async () => onDisk ?? (await acme.crypto.createPrivateEcdsaKey('P-256')).toString()
    const accountKey = shared === null ? await create() : await shared.accountKey(create)
    if (accountKey !== onDisk) await writeAtomically(files.accountKey, accountKey)
    // acme-client talks through axios: a private CA (a test CA, an internal ACME server) is trusted there.
    if (c.caFile !== null)
      acme.axios.defaults.httpsAgent = new Agent({ ca: await readFile(c.caFile, 'utf8'), keepAlive: false })
    const client = new acme.Client({ directoryUrl: c.directory, accountKey, backoffAttempts: 5 })
    const [key, csr] = await acme.crypto.createCsr(
      { commonName: c.domains[0]!, altNames: c.domains },
      await acme.crypto.createPrivateEcdsaKey('P-256'),
    )
    this.#logger.info({ event: 'acme', domains: c.domains }, 'acme: ordering a certificate')
    const cert = await client.auto({
      csr,
      email: c.email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // The CA checks the challenge itself; a check from here would need the public DNS the CA uses.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        this.#tokens.set(challenge.token, keyAuthorization)
        // Behind a balancer the CA's check may reach any instance: each answers from Redis.
        await shared?.setChallenge(challenge.token, keyAuthorization)
      },
      challengeRemoveFn: async (_authz, challenge) => {
        this.#tokens.delete(challenge.token)
        await shared?.removeChallenge(challenge.token).catch(() => {})
      },
    })
    const issued: StoredCert = { cert, key: key.toString(), fingerprint: fingerprintOf(cert) }
    await this.#install(files, issued)
    if (shared !== null && token !== null && !(await shared.store(token, issued).catch(() => false)))
      this.#logger.warn(
        { event: 'acme', fingerprint: issued.fingerprint },
        'acme: the ordering lock was lost before the certificate could be stored in redis; served here only',
      )
    this.#logger.info(
      {
        event: 'acme',
        domains: c.domains,
        validTo: new X509Certificate(cert).validTo,
        fingerprint: issued.fingerprint,
      },
      'acme: certificate issued',
    )
  }
}
