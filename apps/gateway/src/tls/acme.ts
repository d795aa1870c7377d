import { X509Certificate } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { Agent } from 'node:https'
import { join } from 'node:path'
import * as acme from 'acme-client'
import type { Logger } from 'pino'
import type { AcmeConfig, TlsConfig } from '../config/types.js'
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

/**
 * Automatic certificates (RFC 8555) through acme-client: an account (its key kept on disk), an order for
 * `domains` answered by HTTP-01 on the redirect listener (`challenges`), the certificate and its key
 * written beside it and swapped into the TLS listener's certificates. Checked at start and every 12
 * hours; renewed once less than `renewBefore` of its validity is left. A failed order is logged with the
 * CA's reason and retried within the hour, and the certificate in use stays.
 */
export class AcmeManager {
  readonly #config: AcmeConfig
  readonly #store: CertStore
  readonly #challenges: AcmeChallenges
  readonly #logger: Logger
  readonly #tokens = new Map<string, string>()
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #closed = false

  constructor(config: AcmeConfig, store: CertStore, challenges: AcmeChallenges, logger: Logger) {
    this.#config = config
    this.#store = store
    this.#challenges = challenges
    this.#logger = logger.child({ acme: config.directory })
  }

  start(): void {
    this.#challenges.http01 = (token) => this.#tokens.get(token) ?? null
    if (this.#store.current.certs.length === 0)
      this.#logger.warn(
        { event: 'acme', domains: this.#config.domains },
        'acme: no certificate yet; TLS handshakes are refused until the first order succeeds',
      )
    this.#schedule(0)
  }

  close(): void {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  #schedule(ms: number): void {
    if (this.#closed) return
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#running = this.check().finally(() => {
        this.#running = null
      })
    }, ms)
    this.#timer.unref()
  }

  /** Orders a certificate when there is none or it expires within `renewBefore`. */
  async check(): Promise<void> {
    if (this.#running !== null) return this.#running
    const files = acmeFiles(this.#config)
    const current = await readFile(files.cert, 'utf8').catch(() => null)
    if (current !== null) {
      const left = Date.parse(new X509Certificate(current).validTo) - Date.now()
      if (left > this.#config.renewBeforeMs) {
        this.#schedule(Math.min(CHECK_INTERVAL_MS, left - this.#config.renewBeforeMs))
        return
      }
    }
    const reason = current === null ? 'no certificate yet' : 'expires within renewBefore'
    try {
      await this.#order(files)
      this.#schedule(CHECK_INTERVAL_MS)
    } catch (err) {
      this.#logger.error(
        {
          event: 'acme',
          domains: this.#config.domains,
          reason,
          err: (err as Error).message,
          keeping:
            current !== null
              ? files.cert
              : this.#store.current.certs.length > 0
                ? 'the configured certificates'
                : 'none: TLS handshakes are refused',
        },
        `acme: order failed (${(err as Error).message}); the certificate in use stays`,
      )
      this.#schedule(RETRY_AFTER_FAILURE_MS)
    }
  }

  async #order(files: ReturnType<typeof acmeFiles>): Promise<void> {
    const c = this.#config
    await mkdir(c.storage, { recursive: true, mode: 0o700 })
    let accountKey = await readFile(files.accountKey, 'utf8').catch(() => null)
    if (accountKey === null) {
      accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString()
      await writeAtomically(files.accountKey, accountKey)
    }
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
      },
      challengeRemoveFn: async (_authz, challenge) => {
        this.#tokens.delete(challenge.token)
      },
    })
    await writeAtomically(files.key, key)
    await writeAtomically(files.cert, cert, 0o644)
    const tls = withAcmeCert(this.#store.config)
    this.#store.commit(this.#store.prepare(tls))
    this.#logger.info(
      {
        event: 'acme',
        domains: c.domains,
        validTo: new X509Certificate(cert).validTo,
        fingerprint: new X509Certificate(cert).fingerprint256,
      },
      'acme: certificate issued',
    )
  }
}
