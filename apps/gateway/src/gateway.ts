import type { Server as TlsServer } from 'node:tls'
import { type CacheStore, MemoryStore } from '@proxykit/cache'
import type { RedisClient, RedisConnection } from '@proxykit/cache/redis'
import type { OwnAddress } from '@proxykit/forward-proxy'
import type { FastifyPluginAsync } from 'fastify'
import type { Logger } from 'pino'
import { gatewayLogger } from './access-line.js'
import type { AdminControls } from './admin/controls.js'
import { purgeControl } from './admin/purge.js'
import { upstreamControls, upstreamSamples } from './admin/upstreams.js'
import type { GatewayConfig } from './config/types.js'
import { InstanceRegistry } from './instances.js'
import { adminListener } from './listeners/admin.js'
import { type Listener, listen } from './listeners/app.js'
import { GatewayMetrics } from './metrics.js'
import type { Shared } from './shared.js'
import { closeListeners } from './shutdown.js'
import type { AcmeManager } from './tls/acme.js'

export interface GatewayOptions {
  /** The logger for access lines and events (default: pino on stdout at `config.log.level`). */
  logger?: Logger
  /** More routes on the admin listener (the operations layer's live feed and `POST /reload`). */
  adminRoutes?: FastifyPluginAsync
  /** Addresses that are this gateway's own besides its listeners (a worker: the primary's admin). */
  ownAddresses?: OwnAddress[]
}

/**
 * Every address the config names for a listener, before any listener accepts: a forward client must not
 * reach a listener that is still starting (with `workers`, a worker's forward listener takes connections
 * while its reverse listener is not bound yet, and the other workers' already serve that port). A port 0
 * is known only once bound (`ownAddress` in startGateway adds every bound address).
 */
function configuredOwnAddresses(config: GatewayConfig): OwnAddress[] {
  const named = [
    config.forward?.listen,
    config.reverse?.listen,
    config.reverse?.redirectHttp,
    config.admin?.listen,
  ]
  const own: OwnAddress[] = []
  for (const a of named) if (a != null && a.port !== 0) own.push({ address: a.host, port: a.port })
  return own
}

export interface Gateway {
  /** The resolved configuration the gateway runs from. */
  readonly config: GatewayConfig
  readonly logger: Logger
  readonly metrics: GatewayMetrics
  readonly redis: RedisClient | null
  /** Each listener's Fastify instance, bound address and open sockets (null when disabled). */
  readonly listeners: {
    forward: Listener | null
    reverse: Listener | null
    admin: Listener | null
    /** The plain listener answering 301 to https (`reverse.redirectHttp`). */
    redirect: Listener | null
  }
  /** What the admin API drives (readiness, purge, upstreams), for programmatic use too. */
  readonly controls: AdminControls
  /** What the listeners were built from (the operations layer rebuilds listeners from it on reload). */
  readonly shared: Shared
  /** Graceful stop: data listeners first (in-flight requests get `graceMs`), then admin, then Redis. */
  close(graceMs?: number): Promise<void>
}

/** How the logs name a Redis connection (no credentials). */
function redisName(c: RedisConnection): string {
  const bare = (u: string) => u.replace(/\/\/[^@/]*@/, '//')
  if (c.cluster !== undefined) return `cluster ${c.cluster.map(bare).join(',')}`
  if (c.sentinels !== undefined) return `sentinel ${c.name} at ${c.sentinels.map(bare).join(',')}`
  return bare(c.url)
}

// @proxykit/cache/redis (and ioredis under it, the largest module the gateway could load) is imported
// only when the config has `redis`: a gateway without it never pays its memory.
type RedisModule = typeof import('@proxykit/cache/redis')

function connectRedis(
  { createRedisClient }: RedisModule,
  connection: RedisConnection,
  logger: Logger,
): RedisClient {
  const url = redisName(connection)
  const redis = createRedisClient(connection, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    // While Redis is down, commands fail at once (cache bypassed, rate limits fail open or closed) instead
    // of waiting in the offline queue for reconnects: that queue held requests for seconds each.
    enableOfflineQueue: false,
    commandTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  })
  // One line when an outage starts and one when it ends, however many commands failed in between.
  let downSince = 0
  redis.on('error', (err) => {
    if (downSince === 0)
      logger.error({ err: err.message, redis: url }, 'redis unreachable (will keep retrying)')
    downSince ||= Date.now()
  })
  redis.on('ready', () => {
    if (downSince !== 0)
      logger.info({ redis: url, outageMs: Date.now() - downSince }, 'redis reachable again')
    downSince = 0
  })
  return redis
}

/**
 * Starts the gateway from a resolved config: the forward, reverse and admin listeners in one process.
 * Resolves once every listener is bound; rejects (after closing what was started) when one cannot be.
 */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? gatewayLogger(config)
  // The TLS modules (certificates, ACME with acme-client, the http-to-https redirect) are loaded only by
  // a config with `tls`: without it they were the largest part of what the gateway loaded beyond its
  // plugins. So are each listener's modules (the forward proxy, access control) without that listener.
  const tlsModules =
    config.forward?.tls == null && config.reverse?.tls == null
      ? null
      : await Promise.all([import('./tls/certs.js'), import('./tls/acme.js'), import('./tls/redirect.js')])
  // Certificates first: a missing file or a key that does not match stops the start before anything binds.
  const tls = {
    forward:
      config.forward?.tls == null || tlsModules === null
        ? null
        : new tlsModules[0].CertStore(config.forward.tls, 'forward.tls', logger),
    reverse:
      config.reverse?.tls == null || tlsModules === null
        ? null
        : new tlsModules[0].CertStore(tlsModules[1].withAcmeCert(config.reverse.tls), 'reverse.tls', logger),
  }
  const metrics = new GatewayMetrics()
  const redisModule = config.redis === null ? null : await import('@proxykit/cache/redis')
  const redis =
    config.redis === null || redisModule === null
      ? null
      : connectRedis(redisModule, config.redis.connection, logger)
  const prefix = config.redis?.prefix ?? ''
  if (redis !== null) await redis.connect().catch(() => {})
  // Misses for one URL are collapsed across instances too: the cache takes the Redis store's lock.
  const store: CacheStore =
    config.cache.store === 'redis' && redis !== null && redisModule !== null
      ? new redisModule.RedisStore({
          client: redis,
          prefix: `${prefix}cache:`,
          maxEntrySize: config.cache.maxEntrySize,
          local: config.cache.local,
        })
      : new MemoryStore({ maxSize: config.cache.maxSize, maxEntrySize: config.cache.maxEntrySize })
  const shared: Shared = {
    config,
    logger,
    metrics,
    redis,
    redisPrefix: prefix,
    cacheOptions: () => ({ store }),
    ownAddresses: [...configuredOwnAddresses(config), ...(options.ownAddresses ?? [])],
    caches: [],
    tls,
    acme: { http01: null },
  }
  metrics.sources.caches = () =>
    shared.caches.map((c) => ({ listener: c.listener, ...c.app.proxyCache.metrics() }))
  // Whether Redis answers every key, checked every second for /metrics and the dashboard; /readyz asks
  // afresh. Degraded is not unready (see the admin API's /readyz).
  let redisOk = true
  const redisHealth =
    redis === null || redisModule === null ? null : () => redisModule.redisHealth(redis, 1000)
  const redisWatch =
    redisHealth === null
      ? null
      : setInterval(() => {
          redisHealth().then(({ ok, detail }) => {
            if (ok !== redisOk) {
              if (ok) logger.info('redis healthy again: every key answered')
              else logger.warn({ detail }, 'redis degraded (serving without it where it fails)')
            }
            redisOk = ok
          })
        }, 1000)
  redisWatch?.unref()
  if (redisWatch !== null) metrics.sources.redisUp = () => (redisOk ? 1 : 0)
  if (store instanceof MemoryStore) {
    metrics.sources.cacheBytes = () => store.size
    metrics.sources.cacheEntries = () => store.count
  }
  let acmeManager: AcmeManager | null = null
  const listeners: Gateway['listeners'] = { forward: null, reverse: null, admin: null, redirect: null }
  let closing = false
  const controls: AdminControls = {
    async readiness() {
      const checks: Record<string, boolean> = { accepting: !closing }
      for (const name of ['forward', 'reverse'] as const) {
        const l = listeners[name]
        if (config[name] !== null) checks[name] = l?.app.server.listening === true && !l.closing
      }
      if (redisHealth !== null) checks.redis = (await redisHealth()).ok
      return checks
    },
    purge: purgeControl(shared),
  }
  // Instances sharing this Redis see each other (GET /instances); the process with the admin listener speaks.
  const registry =
    redis !== null && config.admin !== null ? new InstanceRegistry(redis, prefix, config, logger) : null
  if (registry !== null) controls.instances = () => registry.list()
  const started: Listener[] = []
  const ownAddress = (l: Listener) => {
    const bound = l.app.server.address()
    if (typeof bound === 'object' && bound !== null)
      shared.ownAddresses.push({ address: bound.address, port: bound.port })
  }
  const close = async (graceMs = config.shutdown.graceMs) => {
    if (closing) return
    closing = true
    if (redisWatch !== null) clearInterval(redisWatch)
    acmeManager?.close()
    for (const store of [tls.forward, tls.reverse]) store?.close()
    const data = [listeners.forward, listeners.reverse, listeners.redirect].filter(
      (l): l is Listener => l !== null,
    )
    await closeListeners(data, graceMs, logger)
    if (listeners.admin !== null) await closeListeners([listeners.admin], Math.min(graceMs, 1000), logger)
    await registry?.stop()
    // The Redis store's own connection (its local tier's subscription) goes with it.
    await Promise.resolve((store as CacheStore).close?.()).catch(() => {})
    if (redis !== null) await redis.quit().catch(() => redis.disconnect())
    logger.info('gateway stopped')
  }
  try {
    if (config.forward !== null) {
      const { forwardListener } = await import('./listeners/forward.js')
      listeners.forward = await forwardListener(config.forward, shared)
      started.push(listeners.forward)
      await listen(listeners.forward, config.forward.listen)
      ownAddress(listeners.forward)
      tls.forward?.attach(listeners.forward.app.server as unknown as TlsServer)
    }
    if (config.reverse !== null) {
      const { reverseListener } = await import('./listeners/reverse.js')
      listeners.reverse = await reverseListener(config.reverse, shared)
      started.push(listeners.reverse)
      await listen(listeners.reverse, config.reverse.listen)
      ownAddress(listeners.reverse)
      tls.reverse?.attach(listeners.reverse.app.server as unknown as TlsServer)
      if (config.reverse.redirectHttp !== null && tlsModules !== null) {
        const reverse = listeners.reverse
        listeners.redirect = tlsModules[2].redirectListener(
          config.reverse,
          shared,
          () => reverse.address.port,
        )
        started.push(listeners.redirect)
        await listen(listeners.redirect, config.reverse.redirectHttp)
        ownAddress(listeners.redirect)
      }
    }
    // A reverse listener whose routes all answer themselves (respond, static) has no reverse proxy.
    if (listeners.reverse?.app.hasDecorator('reverseProxy')) {
      const api = listeners.reverse.app.reverseProxy
      controls.upstreams = upstreamControls(api)
      metrics.sources.upstreams = upstreamSamples(api)
    }
    if (config.admin !== null) {
      listeners.admin = await adminListener(config.admin, shared, controls, options.adminRoutes)
      started.push(listeners.admin)
      await listen(listeners.admin, config.admin.listen)
      ownAddress(listeners.admin)
    }
    for (const store of [tls.forward, tls.reverse]) store?.watch()
    // Ordering starts once the redirect listener can answer the CA's challenges.
    if (config.reverse?.tls?.acme != null && tls.reverse !== null && tlsModules !== null) {
      const acmeConfig = config.reverse.tls.acme
      // With Redis, every instance shares one certificate and only the lock holder orders it.
      const acmeShared =
        redis === null
          ? null
          : new (await import('./tls/acme-redis.js')).AcmeRedisState(redis, prefix, acmeConfig)
      acmeManager = new tlsModules[1].AcmeManager(acmeConfig, tls.reverse, shared.acme, logger, acmeShared)
      acmeManager.start()
    }
  } catch (err) {
    closing = true
    if (redisWatch !== null) clearInterval(redisWatch)
    for (const store of [tls.forward, tls.reverse]) store?.close()
    await Promise.allSettled(started.map((l) => l.app.close()))
    await Promise.resolve((store as CacheStore).close?.()).catch(() => {})
    if (redis !== null) redis.disconnect()
    throw err
  }
  if (registry !== null) {
    for (const l of started) registry.self.addresses[l.name] = l.url
    registry.start()
  }
  for (const l of started)
    logger.info({ event: 'listening', listener: l.name, url: l.url }, `${l.name} listening on ${l.url}`)
  return { config, logger, metrics, redis, listeners, controls, shared, close }
}
