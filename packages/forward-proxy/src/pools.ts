import { type Dispatcher, Pool, ProxyAgent } from 'undici'
import type { Destination } from './guard.js'
import type { ResolvedOptions } from './options.js'

const noop = () => {}

/**
 * Keep-alive connection pools to origins, keyed by the checked address (and, for TLS, the server name):
 * a pool only ever connects to the address it was created for, so no later DNS answer can redirect it.
 * Least recently used pools are closed beyond `maxOrigins`. With a parent proxy, one undici `ProxyAgent`
 * carries everything instead (absolute-form for `http://`, a CONNECT tunnel for `https://`).
 */
export class OriginPools {
  readonly #pools = new Map<string, Pool>()
  readonly #opts: ResolvedOptions
  readonly #parent: ProxyAgent | null

  constructor(opts: ResolvedOptions) {
    this.#opts = opts
    this.#parent =
      opts.parent === null
        ? null
        : new ProxyAgent({
            uri: opts.parent.url.href,
            ...(opts.parent.authorization !== null ? { token: opts.parent.authorization } : {}),
            proxyTunnel: false,
            requestTls: { ...opts.tls, timeout: opts.connectTimeout },
            connect: { timeout: opts.connectTimeout },
            keepAliveTimeout: opts.keepAliveTimeout,
            headersTimeout: opts.headersTimeout,
            bodyTimeout: opts.bodyTimeout,
          })
  }

  get parent(): Dispatcher | null {
    return this.#parent
  }

  /** The pool for `scheme://address:port`, presenting `servername` for TLS. */
  get(scheme: 'http' | 'https', dest: Destination, port: number, servername: string | null): Pool {
    const host = dest.family === 6 ? `[${dest.address}]` : dest.address
    const origin = `${scheme}://${host}:${port}`
    const key = scheme === 'https' && servername !== null ? `${origin} ${servername}` : origin
    const pools = this.#pools
    let pool = pools.get(key)
    if (pool !== undefined) {
      if (pools.size > 1) {
        pools.delete(key)
        pools.set(key, pool)
      }
      return pool
    }
    const o = this.#opts
    pool = new Pool(origin, {
      connections: o.connections ?? null,
      keepAliveTimeout: o.keepAliveTimeout,
      headersTimeout: o.headersTimeout,
      bodyTimeout: o.bodyTimeout,
      connect: {
        timeout: o.connectTimeout,
        ...(scheme === 'https' ? { ...o.tls, ...(servername !== null ? { servername } : {}) } : {}),
      },
    })
    pools.set(key, pool)
    if (pools.size > o.maxOrigins) {
      const [oldestKey, oldest] = pools.entries().next().value as [string, Pool]
      pools.delete(oldestKey)
      oldest.close().catch(noop)
    }
    return pool
  }

  async close(): Promise<void> {
    const all: Dispatcher[] = [...this.#pools.values()]
    if (this.#parent !== null) all.push(this.#parent)
    this.#pools.clear()
    await Promise.all(all.map((d) => d.destroy().catch(noop)))
  }
}
