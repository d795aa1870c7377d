import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { AggregatorRegistry } from 'prom-client'
import { type AdminControls, ControlError, type UpstreamControls } from '../admin/controls.js'
import { ConfigError, loadConfigFile } from '../config/parse.js'
import type { GatewayConfig } from '../config/types.js'
import { adminListener } from '../listeners/admin.js'
import { type Listener, listen } from '../listeners/app.js'
import { GatewayMetrics } from '../metrics.js'
import type { Shared } from '../shared.js'
import { closeListeners } from '../shutdown.js'
import { opsRoutes, type ReloadResult } from './admin-routes.js'
import { WorkerLink } from './cluster-ipc.js'
import { LiveStats, type MetricsJson } from './live-stats.js'
import { planReload } from './reload.js'
import { gatewayLogger } from './run.js'

// `workers: N`: a node:cluster primary and N workers. Workers run the forward and reverse listeners
// (the primary holds the listening sockets and hands connections out round robin); the admin listener
// lives in the primary, so /metrics and the dashboard cover every worker (prom-client's
// AggregatorRegistry.aggregate over each worker's registry, fetched over IPC), and admin calls (purge,
// upstreams, reload) are sent to every worker. A worker that dies is replaced; SIGTERM drains them all.
// This file is the primary; cluster-worker.ts a worker, cluster-ipc.ts the messages between them.

export interface Primary {
  readonly logger: Logger
  /** Live workers' process ids. */
  pids(): number[]
  /** Resolves once `n` workers (default: all) have reported ready. */
  ready(n?: number): Promise<void>
  reload(): Promise<ReloadResult>
  close(): Promise<void>
  admin: Listener | null
}

/** The primary's own registry (admin requests, its process), serving the aggregate of every worker's. */
function aggregatedMetrics(link: WorkerLink): { metrics: GatewayMetrics; read: () => Promise<MetricsJson> } {
  const metrics = new GatewayMetrics()
  const own = metrics.registry
  const parts = () =>
    Promise.all([
      own.getMetricsAsJSON(),
      ...link.readyList().map((w) => link.ask<MetricsJson>(w, 'metrics').catch(() => [] as MetricsJson)),
    ])
  // What /metrics serves (the admin routes read this registry): the aggregate, not the primary alone.
  own.metrics = async () => AggregatorRegistry.aggregate(await parts()).metrics()
  const read = async (): Promise<MetricsJson> =>
    (await AggregatorRegistry.aggregate(await parts()).getMetricsAsJSON()) as MetricsJson
  return { metrics, read }
}

/** Upstream management sent to the workers: changes to all of them, the list from the first ready. */
function workerUpstreams(link: WorkerLink): UpstreamControls {
  const call =
    (method: keyof UpstreamControls, broadcast: boolean) =>
    async (...args: unknown[]) => {
      if (broadcast) return (await link.askAll<unknown>('upstreams', { method, args }))[0]
      const [first] = link.readyList()
      if (first === undefined) throw new ControlError('no worker is ready', 503)
      return link.ask(first, 'upstreams', { method, args })
    }
  const list = call('list', false)
  let cached: ReturnType<UpstreamControls['list']> = []
  const upstreams: UpstreamControls = {
    // The admin route calls list() synchronously: answer from the last sample, refreshed each call.
    list: () => {
      void list().then(
        (v) => {
          cached = v as typeof cached
        },
        () => {},
      )
      return cached
    },
    add: call('add', true),
    drain: call('drain', true),
    undrain: call('undrain', true),
    remove: call('remove', true),
  }
  // Keep the list fresh for the synchronous route.
  const timer = setInterval(() => upstreams.list(), 1000)
  timer.unref()
  return upstreams
}

/** The admin API's controls, each answered by asking the workers. */
function workerControls(link: WorkerLink, config: GatewayConfig): AdminControls {
  const controls: AdminControls = {
    async readiness() {
      const checks: Record<string, boolean> = {
        accepting: !link.closing,
        workers: link.readyList().length === config.workers,
      }
      const answers = await Promise.allSettled(
        link.readyList().map((w) => link.ask<Record<string, boolean>>(w, 'readiness')),
      )
      for (const a of answers) {
        if (a.status !== 'fulfilled') continue
        for (const [k, v] of Object.entries(a.value)) checks[k] = (checks[k] ?? true) && v
      }
      return checks
    },
    // Each worker purges its own store view: with Redis the first removes the entries and the others find
    // none; with memory stores each removes its own copies. The sum is what went.
    purge: async (what) => {
      const counts = await link.askAll<number | null>('purge', what)
      return counts.some((n) => typeof n === 'number')
        ? counts.reduce<number>((sum, n) => sum + (n ?? 0), 0)
        : null
    },
  }
  if (config.reverse !== null) controls.upstreams = workerUpstreams(link)
  return controls
}

/** The configuration the primary runs with: what a reload checks the new file against. */
interface PrimaryState {
  current: GatewayConfig
}

/** Re-reads the config file and has every worker reload it; the primary keeps the result's log level. */
function primaryReload(
  state: PrimaryState,
  configFile: string | null,
  link: WorkerLink,
  logger: Logger,
): () => Promise<ReloadResult> {
  return async () => {
    if (configFile === null)
      return {
        ok: false,
        error: 'the built-in demo has no config file to reload',
        applied: [],
        restartNeeded: [],
      }
    let next: GatewayConfig
    try {
      next = await loadConfigFile(configFile)
    } catch (err) {
      const reason = err instanceof ConfigError ? err.message : (err as Error).message
      logger.error(
        { event: 'reload', ok: false, reason },
        'reload refused; the running configuration is kept',
      )
      return { ok: false, error: reason, applied: [], restartNeeded: [] }
    }
    // Workers re-read the same file; a replacement worker started later reads it too.
    const results = await Promise.allSettled(link.readyList().map((w) => link.ask<ReloadResult>(w, 'reload')))
    const answers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const plan = planReload(state.current, next)
    const refused = answers.find((a) => !a.ok)
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (refused !== undefined || lost !== undefined) {
      const error = refused?.error ?? String((lost?.reason as Error | undefined)?.message ?? 'failed')
      logger.error({ event: 'reload', ok: false, reason: error }, 'reload failed in a worker')
      return { ok: false, error, applied: [], restartNeeded: plan.restartNeeded, workers: answers.length }
    }
    state.current = next
    if (plan.applied.includes('log.level')) logger.level = next.log.level
    const result: ReloadResult = {
      ok: true,
      applied: answers[0]?.applied ?? plan.applied,
      restartNeeded: plan.restartNeeded,
      workers: answers.length,
    }
    logger.info({ event: 'reload', ...result }, 'reloaded')
    return result
  }
}

/** Says when workers will not share the cache or the rate-limit counters. */
function warnAboutPerWorkerState(config: GatewayConfig, logger: Logger): void {
  const count = config.workers
  const usesCache = config.forward?.cache === true || (config.reverse?.routes.some((r) => r.cache) ?? false)
  const usesLimits =
    config.forward?.rateLimit != null || (config.reverse?.routes.some((r) => r.rateLimit !== null) ?? false)
  if (config.redis === null && (usesCache || usesLimits))
    logger.warn(
      { workers: count },
      'workers without redis: each worker keeps its own cache and rate-limit counters (a limit of N allows up to N per worker); set redis to share them',
    )
  else if (config.redis !== null && usesCache && config.cache.store !== 'redis')
    logger.warn(
      { workers: count },
      'cache.store is memory: each worker caches on its own; set cache.store: redis to share',
    )
}

/** The admin listener in the primary: the workers' metrics, controls and reload behind it. */
async function primaryAdmin(
  config: GatewayConfig,
  logger: Logger,
  metrics: GatewayMetrics,
  controls: AdminControls,
  live: LiveStats,
  reload: () => Promise<ReloadResult>,
): Promise<Listener | null> {
  if (config.admin === null) return null
  const sharedForAdmin: Shared = {
    config,
    logger,
    metrics,
    redis: null,
    redisPrefix: '',
    cacheOptions: () => ({}),
    ownAddresses: [],
    caches: [],
    tls: { forward: null, reverse: null },
    acme: { http01: null },
  }
  const extra = async (app: FastifyInstance) =>
    opsRoutes(app, { token: config.admin?.token ?? null, live, reload })
  const admin = await adminListener(config.admin, sharedForAdmin, controls, extra)
  await listen(admin, config.admin.listen)
  logger.info({ event: 'listening', listener: 'admin', url: admin.url }, `admin listening on ${admin.url}`)
  return admin
}

/** Starts the primary: forks the workers, serves the admin listener, replaces dead workers. */
export async function runPrimary(config: GatewayConfig, configFile: string | null): Promise<Primary> {
  const state: PrimaryState = { current: config }
  let live: LiveStats | null = null
  const logger = gatewayLogger(config, (e) => live?.recordDenial(e)).child({ role: 'primary' })
  const link = new WorkerLink(logger, (e) => live?.recordDenial(e))
  const { metrics, read } = aggregatedMetrics(link)
  const liveStats = new LiveStats({ read, workers: () => link.readyList().length })
  live = liveStats
  const controls = workerControls(link, config)
  const reload = primaryReload(state, configFile, link, logger)

  warnAboutPerWorkerState(config, logger)
  for (let i = 0; i < config.workers; i++) link.fork()
  const admin = await primaryAdmin(config, logger, metrics, controls, liveStats, reload)
  const onHup = () => {
    logger.info({ event: 'reload', signal: 'SIGHUP' }, 'SIGHUP: reloading the configuration')
    void reload()
  }
  process.on('SIGHUP', onHup)

  return {
    logger,
    admin,
    pids: () => link.workers().flatMap((w) => (w.process.pid === undefined ? [] : [w.process.pid])),
    ready: (n = config.workers) => link.ready(n),
    reload,
    async close() {
      if (link.closing) return
      process.removeListener('SIGHUP', onHup)
      liveStats.close()
      // Each worker drains on SIGTERM (its own graceful shutdown); cut the ones that outlive the grace.
      const stopped = await link.stopAll(state.current.shutdown.graceMs + 5000)
      if (admin !== null) await closeListeners([admin], 1000, logger)
      logger.info({ workers: stopped }, 'gateway stopped')
    },
  }
}
