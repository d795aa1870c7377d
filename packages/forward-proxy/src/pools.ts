import { Http1Pool, type RelayDispatcher } from '@proxykit/core'
import type { Dispatcher } from 'undici'
import type { Destination } from './guard.js'
import type { ResolvedOptions } from './options.js'

const noop = () => {}

/**
 * The dispatcher for a parent proxy: undici's `ProxyAgent` (absolute-form for `http://`, a CONNECT tunnel
 * for `https://`), loaded only when a parent is configured.
 */
export async function parentDispatcher(opts: ResolvedOptions): Promise<Dispatcher | null> {
  if (opts.parent === null) return null
  const { ProxyAgent } = await import('undici')
  return new ProxyAgent({
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

/**
 * Keep-alive connection pools to origins, keyed by the checked address (and, for TLS, the server name):
 * a pool only ever connects to the address it was created for, so no later DNS answer can redirect it.
 * Least recently used pools are closed beyond `maxOrigins`. With a parent proxy, the parent's dispatcher
 * carries everything instead.
 */
export class OriginPools {
  readonly #pools = new Map<string, Http1Pool>()
  readonly #opts: ResolvedOptions
  readonly #parent: Dispatcher | null

  constructor(opts: ResolvedOptions, parent: Dispatcher | null) {
    this.#opts = opts
    this.#parent = parent
  }

  get parent(): RelayDispatcher | null {
    return this.#parent
  }

  /** The pool for `scheme://address:port`, presenting `servername` for TLS. */
  get(scheme: 'http' | 'https', dest: Destination, port: number, servername: string | null): Http1Pool {
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
    pool = new Http1Pool(origin, {
      connections: o.connections ?? null,
      keepAliveTimeout: o.keepAliveTimeout,
      headersTimeout: o.headersTimeout,
      bodyTimeout: o.bodyTimeout,
      connectTimeout: o.connectTimeout,
      ...(scheme === 'https' ? { tls: { ...o.tls, ...(servername !== null ? { servername } : {}) } } : {}),
    })
    pools.set(key, pool)
    if (pools.size > o.maxOrigins) {
      const [oldestKey, oldest] = pools.entries().next().value as [string, Http1Pool]
      pools.delete(oldestKey)
      oldest.close().catch(noop)
    }
    return pool
  }

  async close(): Promise<void> {
    const all: Promise<void>[] = [...this.#pools.values()].map((p) => p.destroy())
    if (this.#parent !== null) all.push(this.#parent.destroy().catch(noop))
    this.#pools.clear()
    await Promise.all(all)
  }
}
