import { isDeepStrictEqual } from 'node:util'
import { type CacheStore, MemoryStore } from '@proxykit/cache'
import { purgeControl } from '../admin/purge.js'
import { upstreamControls, upstreamSamples } from '../admin/upstreams.js'
import { ConfigError } from '../config/parse.js'
import type { GatewayConfig } from '../config/types.js'
import type { Gateway } from '../gateway.js'
import type { Listener } from '../listeners/app.js'
import { addCacheCounters, type CacheSample } from '../metrics.js'
import type { Shared } from '../shared.js'
import type { CertStore } from '../tls/certs.js'
import type { ReloadResult } from './admin-routes.js'
import { Front } from './swap.js'

const DATA = ['forward', 'reverse'] as const
type DataName = (typeof DATA)[number]

const addr = (l: { host: string; port: number }) =>
  `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`

/** What differs between two configs, and which differences need a restart. */
export function planReload(
  old: GatewayConfig,
  next: GatewayConfig,
): { rebuild: DataName[]; applied: string[]; restartNeeded: string[] } {
  const restartNeeded: string[] = []
  const applied: string[] = []
  const rebuild: DataName[] = []
  // A memory store's size can be swapped (a fresh store); a Redis store is shared, so it stays.
  const cacheChanged =
    !isDeepStrictEqual(old.cache, next.cache) &&
    old.cache.store === next.cache.store &&
    next.cache.store === 'memory'
  if (
    old.cache.store === next.cache.store &&
    next.cache.store === 'redis' &&
    !isDeepStrictEqual(old.cache, next.cache)
  )
    restartNeeded.push('cache: settings of the Redis store')
  if (old.cache.store !== next.cache.store)
    restartNeeded.push(`cache.store: ${old.cache.store} → ${next.cache.store}`)
  for (const name of DATA) {
    const a = old[name]
    const b = next[name]
    if ((a === null) !== (b === null)) {
      restartNeeded.push(`${name}: listener ${a === null ? 'added' : 'removed'}`)
      continue
    }
    if (a === null || b === null) continue
    if (!isDeepStrictEqual(a.listen, b.listen))
      restartNeeded.push(`${name}.listen: ${addr(a.listen)} → ${addr(b.listen)}`)
    // Certificates and minVersion change under the bound server; plain ↔ TLS needs another server.
    if ((a.tls === null) !== (b.tls === null))
      restartNeeded.push(`${name}.tls: ${a.tls === null ? 'added' : 'removed'}`)
    if (name === 'reverse') {
      const ra = a as NonNullable<GatewayConfig['reverse']>
      const rb = b as NonNullable<GatewayConfig['reverse']>
      if (ra.http2 !== rb.http2) restartNeeded.push(`reverse.http2: ${ra.http2} → ${rb.http2}`)
      if (!isDeepStrictEqual(ra.redirectHttp, rb.redirectHttp))
        restartNeeded.push('reverse.redirectHttp: changed')
    }
    // Settings of the bound server, which a reload keeps.
    if (!isDeepStrictEqual(a.clientTimeouts, b.clientTimeouts))
      restartNeeded.push(`${name}.clientTimeouts: changed`)
    if (a.maxConnectionsPerClient !== b.maxConnectionsPerClient)
      restartNeeded.push(
        `${name}.maxConnectionsPerClient: ${a.maxConnectionsPerClient} → ${b.maxConnectionsPerClient}`,
      )
    if (!isDeepStrictEqual(a.proxyProtocol, b.proxyProtocol))
      restartNeeded.push(`${name}.proxyProtocol: changed`)
    const usesCache =
      name === 'forward' ? next.forward?.cache === true : next.reverse!.routes.some((r) => r.cache)
    if (
      !isDeepStrictEqual({ ...a, listen: null }, { ...b, listen: null }) ||
      (cacheChanged && usesCache) ||
      old.log.access !== next.log.access
    ) {
      rebuild.push(name)
      applied.push(name)
    }
  }
  if (cacheChanged) applied.push('cache')
  if (!isDeepStrictEqual(old.admin, next.admin)) restartNeeded.push('admin: listen address or token changed')
  if (!isDeepStrictEqual(old.redis, next.redis)) restartNeeded.push('redis: url or prefix changed')
  const workersOf = (c: GatewayConfig) => (c as { workers?: unknown }).workers
  if (!isDeepStrictEqual(workersOf(old), workersOf(next))) restartNeeded.push('workers: count changed')
  if (old.log.level !== next.log.level) applied.push('log.level')
  // The logger (and its file transport) is made once, at start.
  if (!isDeepStrictEqual(old.log.file, next.log.file) || !isDeepStrictEqual(old.log.fields, next.log.fields))
    restartNeeded.push('log.file, log.fields: changed')
  if (old.shutdown.graceMs !== next.shutdown.graceMs) applied.push('shutdown.grace')
  return { rebuild, applied, restartNeeded }
}

// Imported when a reload rebuilds a listener, as at start (gateway.ts): a gateway without a forward
// listener never loads the forward proxy.
const builders = {
  forward: async (c: NonNullable<GatewayConfig['forward']>, s: Shared) =>
    (await import('../listeners/forward.js')).forwardListener(c, s),
  reverse: async (c: NonNullable<GatewayConfig['reverse']>, s: Shared) =>
    (await import('../listeners/reverse.js')).reverseListener(c, s),
} as const

/**
 * Re-reads the config and swaps the forward and reverse listeners' Fastify instances (rules, upstreams,
 * balancers, cache settings, rate limits) behind their bound sockets. Nothing is swapped unless every
 * new instance was built and is ready; an invalid file changes nothing.
 */
export class Reloader {
  config: GatewayConfig
  readonly #gateway: Gateway
  readonly #load: () => Promise<GatewayConfig>
  readonly fronts: Partial<Record<DataName, Front>> = {}
  #store: CacheStore | null = null
  /** Cache counters of retired generations, so the exported counters never go down. */
  readonly #retiredCache = new Map<string, CacheSample>()
  #queue: Promise<unknown> = Promise.resolve()

  constructor(gateway: Gateway, load: () => Promise<GatewayConfig>) {
    this.#gateway = gateway
    this.config = gateway.config
    this.#load = load
    for (const name of DATA) {
      const l = gateway.listeners[name]
      if (l !== null) this.fronts[name] = new Front(l, gateway.logger)
    }
  }

  /** Reloads from the file (or from `next`, already validated). Reloads run one at a time. */
  reload(next?: GatewayConfig): Promise<ReloadResult> {
    const run = this.#queue.then(() => this.#reload(next))
    this.#queue = run.catch(() => {})
    return run
  }

  async #reload(given?: GatewayConfig): Promise<ReloadResult> {
    const logger = this.#gateway.logger
    let next: GatewayConfig
    try {
      next = given ?? (await this.#load())
    } catch (err) {
      const reason = err instanceof ConfigError ? err.message : `cannot load: ${(err as Error).message}`
      logger.error(
        { event: 'reload', ok: false, reason },
        'reload refused; the running configuration is kept',
      )
      return { ok: false, error: reason, applied: [], restartNeeded: [] }
    }
    const old = this.config
    const plan = planReload(old, next)
    // What restarts would change stays as it runs now.
    const effective: GatewayConfig = {
      ...next,
      admin: old.admin,
      redis: old.redis,
      cache: old.cache.store === next.cache.store && next.cache.store === 'memory' ? next.cache : old.cache,
    }
    for (const name of DATA) {
      const o = old[name]
      const n = next[name]
      if ((o === null) !== (n === null)) (effective as unknown as Record<string, unknown>)[name] = o
      else if (o !== null && n !== null) {
        const kept = { ...n, listen: o.listen } as typeof n
        if ((o.tls === null) !== (n.tls === null)) kept.tls = o.tls
        if (name === 'reverse') {
          const ro = o as NonNullable<GatewayConfig['reverse']>
          Object.assign(kept, { http2: ro.http2, redirectHttp: ro.redirectHttp })
        }
        ;(effective as unknown as Record<string, unknown>)[name] = kept
      }
    }
    // Certificates are re-read on every reload, changed or not (a renewed file under the same name).
    const certs: Array<[DataName, CertStore, ReturnType<CertStore['prepare']>]> = []
    try {
      for (const name of DATA) {
        const store = this.#gateway.shared.tls[name]
        const cfg = effective[name]?.tls
        if (store == null || cfg == null) continue
        const { withAcmeCert } = await import('../tls/acme.js')
        certs.push([name, store, store.prepare(withAcmeCert(cfg))])
      }
    } catch (err) {
      const reason = err instanceof ConfigError ? err.message : (err as Error).message
      logger.error(
        { event: 'reload', ok: false, reason },
        'reload refused; the running configuration is kept',
      )
      return { ok: false, error: reason, applied: [], restartNeeded: plan.restartNeeded }
    }
    const shared = this.#gateway.shared
    const store = this.#storeFor(old, effective)
    const nextShared: Shared = { ...shared, config: effective, cacheOptions: () => ({ store }), caches: [] }
    const metrics = this.#gateway.metrics
    const tunnelsBefore = metrics.sources.tunnels
    const built: Partial<Record<DataName, Listener>> = {}
    try {
      for (const name of plan.rebuild) {
        const cfg = effective[name]
        if (cfg === null || this.fronts[name] === undefined) continue
        const l = await (builders[name] as (c: typeof cfg, s: Shared) => Promise<Listener>)(cfg, nextShared)
        built[name] = l
        await l.app.ready()
      }
    } catch (err) {
      metrics.sources.tunnels = tunnelsBefore
      await Promise.allSettled(Object.values(built).map((l) => l.app.close()))
      const reason = `the new configuration could not be built: ${(err as Error).message}`
      logger.error(
        { event: 'reload', ok: false, reason },
        'reload refused; the running configuration is kept',
      )
      return { ok: false, error: reason, applied: [], restartNeeded: plan.restartNeeded }
    }
    // From here on nothing can fail: swap everything in one synchronous step.
    const tunnelsNew = metrics.sources.tunnels
    if (built.forward !== undefined && tunnelsNew !== tunnelsBefore)
      metrics.sources.tunnels = () => (tunnelsBefore?.() ?? 0) + (tunnelsNew?.() ?? 0)
    const retired: Array<[Front, Listener]> = []
    for (const name of DATA) {
      const l = built[name]
      if (l !== undefined) retired.push([this.fronts[name]!, this.fronts[name]!.swap(l)])
    }
    for (const [name, store, prepared] of certs)
      if (store.apply(prepared, 'reload') && !plan.applied.includes(`${name}.tls`))
        plan.applied.push(`${name}.tls`)
    this.#rewire(nextShared, built)
    this.#adoptStore(store)
    if (plan.applied.includes('log.level')) logger.level = next.log.level
    if (plan.applied.includes('shutdown.grace')) this.#gateway.config.shutdown.graceMs = next.shutdown.graceMs
    this.config = effective
    for (const [front, l] of retired) {
      front.retire(l).catch((err) => logger.warn({ err }, 'closing the previous configuration failed'))
    }
    const result: ReloadResult = { ok: true, applied: plan.applied, restartNeeded: plan.restartNeeded }
    logger.info(
      { event: 'reload', ...result },
      plan.applied.length === 0 ? 'reload: nothing changed' : 'reloaded',
    )
    if (plan.restartNeeded.length > 0)
      logger.warn({ event: 'reload', restartNeeded: plan.restartNeeded }, 'some changes need a restart')
    return result
  }

  /** The cache store for the new generation: the same one (entries kept) unless its settings changed. */
  #storeFor(old: GatewayConfig, next: GatewayConfig): CacheStore {
    const current = this.#store ?? this.#gateway.shared.cacheOptions().store!
    if (isDeepStrictEqual(old.cache, next.cache)) return current
    // A Redis store is shared with other instances: keep it (its entries are theirs too).
    if (next.cache.store === 'redis') return current
    return new MemoryStore({ maxSize: next.cache.maxSize, maxEntrySize: next.cache.maxEntrySize })
  }

  /** After the swap: the new store is the one the metrics and the next reload see. */
  #adoptStore(store: CacheStore): void {
    if (store === (this.#store ?? this.#gateway.shared.cacheOptions().store)) return
    this.#store = store
    const metrics = this.#gateway.metrics
    if (store instanceof MemoryStore) {
      metrics.sources.cacheBytes = () => store.size
      metrics.sources.cacheEntries = () => store.count
    }
  }

  /** Points the admin controls and the metric sources at the new generation. */
  #rewire(shared: Shared, built: Partial<Record<DataName, Listener>>): void {
    const gw = this.#gateway
    const metrics = gw.metrics
    const reverse = built.reverse
    // A reverse listener whose routes all answer themselves (respond, static) has no reverse proxy.
    if (reverse?.app.hasDecorator('reverseProxy')) {
      const api = reverse.app.reverseProxy
      gw.controls.upstreams = upstreamControls(api)
      metrics.sources.upstreams = upstreamSamples(api)
    }
    // Listeners not rebuilt keep their cache instance: carry them over.
    const live = [...(this.#caches ?? gw.shared.caches)]
    for (const name of DATA) {
      if (built[name] !== undefined) {
        for (const c of live.filter((c) => c.listener === name)) {
          this.#retiredCache.set(
            name,
            addCacheCounters(this.#retiredCache.get(name), name, c.app.proxyCache.metrics()),
          )
        }
      } else {
        shared.caches.push(...live.filter((c) => c.listener === name))
      }
    }
    this.#caches = shared.caches
    const retired = this.#retiredCache
    metrics.sources.caches = () => {
      const out = new Map<string, CacheSample>()
      for (const [name, s] of retired) out.set(name, { ...s })
      for (const c of shared.caches) {
        out.set(c.listener, addCacheCounters(out.get(c.listener), c.listener, c.app.proxyCache.metrics()))
      }
      return [...out.values()]
    }
    gw.controls.purge = purgeControl(shared)
  }

  #caches: Shared['caches'] | null = null

  /** Closes the generations a reload started (call after the gateway's own close). */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.fronts).map((f) => f.closeGenerations()))
  }
}
