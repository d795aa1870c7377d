import { createPrivateKey, X509Certificate } from 'node:crypto'
import { type FSWatcher, readFileSync, unwatchFile, watch, watchFile } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls'
import type { Logger } from 'pino'
import { ConfigError } from '../config/parse.js'
import type { TlsConfig } from '../config/types.js'

/** One certificate as loaded: its PEM (chain included), its key, and the names it serves. */
export interface LoadedCert {
  certFile: string
  keyFile: string
  cert: string
  key: string
  /** Lower-case DNS names from the SAN (`*.example.org` kept as written), or the subject CN without one. */
  names: string[]
  validTo: string
}

/** Certificates and the TLS contexts built from them: what one generation of a TLS listener serves. */
export interface CertSet {
  certs: LoadedCert[]
  /**
   * The first certificate's context: clients without SNI, or with a name no certificate serves. null
   * when there is no certificate yet (ACME's first order still running): every handshake is refused.
   */
  fallback: SecureContext | null
  exact: Map<string, SecureContext>
  /** `example.org` → the context of `*.example.org` (one label deep, as RFC 6125 §6.4.3 says). */
  wildcard: Map<string, SecureContext>
  /** What `tls.Server#setSecureContext` takes for the default context. */
  defaultOptions: SecureContextOptions
}

function read(file: string, where: string, source: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(
      [`${where}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`],
      source,
    )
  }
}

/** The names a certificate serves: its SAN's DNS (and IP) entries, else its subject CN. */
function namesOf(x509: X509Certificate): string[] {
  const names: string[] = []
  for (const entry of (x509.subjectAltName ?? '').split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.+)$/.exec(entry.trim())
    if (m !== null) names.push(m[2]!.toLowerCase())
  }
  if (names.length > 0) return names
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)
  return cn === null ? [] : [cn[1]!.toLowerCase()]
}

/** Node's defaults for ciphers (its secure list), with the minimum version the config asks for. */
function contextOptions(cert: LoadedCert, tls: TlsConfig): SecureContextOptions {
  return { cert: cert.cert, key: cert.key, minVersion: tls.minVersion }
}

/**
 * Reads and checks every certificate of `tls.certs` (readable, PEM, key matching) and builds a context per
 * certificate. Throws a ConfigError naming the option and the file.
 */
export function loadCertSet(tls: TlsConfig, option: string, source = 'config'): CertSet {
  const certs: LoadedCert[] = []
  tls.certs.forEach((entry, i) => {
    const at = `${option}.certs[${i}]`
    const cert = read(entry.cert, `${at}.cert`, source)
    const key = read(entry.key, `${at}.key`, source)
    let x509: X509Certificate
    try {
      x509 = new X509Certificate(cert)
    } catch (err) {
      throw new ConfigError(
        [`${at}.cert: ${entry.cert} is not a PEM certificate (${(err as Error).message})`],
        source,
      )
    }
    let privateKey: ReturnType<typeof createPrivateKey>
    try {
      privateKey = createPrivateKey(key)
    } catch (err) {
      throw new ConfigError(
        [`${at}.key: ${entry.key} is not a PEM private key (${(err as Error).message})`],
        source,
      )
    }
    if (!x509.checkPrivateKey(privateKey))
      throw new ConfigError([`${at}.key: ${entry.key} does not match the certificate ${entry.cert}`], source)
    certs.push({
      certFile: entry.cert,
      keyFile: entry.key,
      cert,
      key,
      names: namesOf(x509),
      validTo: x509.validTo,
    })
  })
  const exact = new Map<string, SecureContext>()
  const wildcard = new Map<string, SecureContext>()
  let fallback: SecureContext | null = null
  certs.forEach((c, i) => {
    let context: SecureContext
    try {
      context = createSecureContext(contextOptions(c, tls))
    } catch (err) {
      throw new ConfigError([`${option}.certs[${i}]: ${c.certFile}: ${(err as Error).message}`], source)
    }
    fallback ??= context
    // The first certificate listing a name serves it, as the first is the default.
    for (const name of c.names) {
      if (name.startsWith('*.')) {
        if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), context)
      } else if (!exact.has(name)) exact.set(name, context)
    }
  })
  const first = certs[0]
  return {
    certs,
    fallback,
    exact,
    wildcard,
    defaultOptions: first === undefined ? { minVersion: tls.minVersion } : contextOptions(first, tls),
  }
}

/**
 * The context for a client's SNI name: an exact name, then a `*.` one label up, then the default (null:
 * no certificate at all yet).
 */
export function contextFor(set: CertSet, servername: string): SecureContext | null {
  const name = servername.toLowerCase().replace(/\.$/, '')
  const exact = set.exact.get(name)
  if (exact !== undefined) return exact
  const dot = name.indexOf('.')
  if (dot > 0) {
    const wild = set.wildcard.get(name.slice(dot + 1))
    if (wild !== undefined) return wild
  }
  return set.fallback
}

/** The server TLS options of a listener whose contexts come from `store` (SNI and the default). */
export function serverTlsOptions(store: CertStore): SecureContextOptions & {
  SNICallback: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void
} {
  return {
    ...store.current.defaultOptions,
    SNICallback: (servername, cb) => {
      const context = contextFor(store.current, servername)
      // No certificate yet (an ACME order still running): the handshake fails with an alert rather than
      // offering a certificate no client would trust, as Caddy does; a client without SNI fails the same
      // way, the default context having no certificate.
      if (context === null) cb(new Error(`no certificate for ${servername} yet`))
      else cb(null, context)
    },
  }
}

/** What a TLS listener's server must offer for certificates to change under it. */
interface ContextTarget {
  setSecureContext(options: SecureContextOptions): void
}

const WATCH_DEBOUNCE_MS = 250
const POLL_INTERVAL_MS = 1000

/**
 * The certificates of one TLS listener, swappable while it runs: the SNI callback reads `current` on
 * every handshake, and the default context (clients without SNI) is replaced on the bound server.
 * Connections already open keep the certificate they were made with; new handshakes get the new one.
 * Files are watched (their directories, which also sees a rename over them or a swapped symlink, as
 * certbot and Kubernetes secrets do): a change re-reads them after a short debounce; a set that fails to
 * load is refused, logged, and the previous one kept.
 */
export class CertStore {
  current: CertSet
  #config: TlsConfig
  readonly #option: string
  readonly #logger: Logger
  readonly #targets = new Set<ContextTarget>()
  #watchers: FSWatcher[] = []
  #polled: string[] = []
  #timer: NodeJS.Timeout | null = null
  #closed = false

  constructor(config: TlsConfig, option: string, logger: Logger) {
    this.#config = config
    this.#option = option
    this.#logger = logger
    this.current = loadCertSet(config, option)
  }

  get config(): TlsConfig {
    return this.#config
  }

  /** A server whose default context follows this store (the bound listener). */
  attach(server: ContextTarget): void {
    this.#targets.add(server)
  }

  /** Loads `config` (a reload's); returns what `commit` swaps in. Throws a ConfigError naming the file. */
  prepare(config: TlsConfig): { config: TlsConfig; set: CertSet } {
    return { config, set: loadCertSet(config, this.#option) }
  }

  /** Swaps in a prepared set: the next handshakes use it. */
  commit(prepared: { config: TlsConfig; set: CertSet }): void {
    const changedFiles = JSON.stringify(prepared.config.certs) !== JSON.stringify(this.#config.certs)
    this.#config = prepared.config
    this.current = prepared.set
    for (const t of this.#targets) t.setSecureContext(prepared.set.defaultOptions)
    if (changedFiles && this.#watchers.length + this.#polled.length > 0) this.watch()
  }

  /** Re-reads the files now; on failure logs the refusal and keeps the certificates in use. */
  reloadFiles(trigger: string): boolean {
    let prepared: ReturnType<CertStore['prepare']>
    try {
      prepared = this.prepare(this.#config)
    } catch (err) {
      const why = err instanceof ConfigError ? err.problems.join('; ') : (err as Error).message
      this.#logger.error(
        { event: 'certificates', listener: this.#option, ok: false, reason: why, trigger },
        'certificate reload refused; the certificates in use are kept',
      )
      return false
    }
    this.apply(prepared, trigger)
    return true
  }

  /** Commits a prepared set when it differs from the one in use (logged); true when it did. */
  apply(prepared: { config: TlsConfig; set: CertSet }, trigger: string): boolean {
    const same =
      prepared.config.minVersion === this.#config.minVersion &&
      prepared.set.certs.length === this.current.certs.length &&
      prepared.set.certs.every(
        (c, i) => c.cert === this.current.certs[i]?.cert && c.key === this.current.certs[i]?.key,
      )
    if (same) {
      // Same contents under other file names still needs the new names watched.
      if (JSON.stringify(prepared.config.certs) !== JSON.stringify(this.#config.certs)) this.commit(prepared)
      return false
    }
    this.commit(prepared)
    this.#logger.info(
      {
        event: 'certificates',
        listener: this.#option,
        ok: true,
        trigger,
        certs: prepared.set.certs.map((c) => ({ file: c.certFile, names: c.names, validTo: c.validTo })),
      },
      'certificates reloaded',
    )
    return true
  }

  /** Watches the certificate and key files; a change reloads them (debounced). */
  watch(): void {
    this.unwatch()
    if (this.#closed) return
    const files = this.#config.certs.flatMap((c) => [resolve(c.cert), resolve(c.key)])
    const dirs = [...new Set(files.map((f) => dirname(f)))]
    const changed = () => {
      if (this.#timer !== null) clearTimeout(this.#timer)
      this.#timer = setTimeout(() => {
        this.#timer = null
        if (!this.#closed) this.reloadFiles('file changed')
      }, WATCH_DEBOUNCE_MS)
      this.#timer.unref()
    }
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, changed)
        w.on('error', () => {})
        this.#watchers.push(w)
      } catch {
        // A directory fs.watch cannot follow (some network file systems): poll its files instead.
        for (const f of files.filter((f) => dirname(f) === dir)) {
          watchFile(f, { persistent: false, interval: POLL_INTERVAL_MS }, changed)
          this.#polled.push(f)
        }
      }
    }
  }

  unwatch(): void {
    for (const w of this.#watchers) w.close()
    this.#watchers = []
    for (const f of this.#polled) unwatchFile(f)
    this.#polled = []
  }

  close(): void {
    this.#closed = true
    this.unwatch()
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }
}
