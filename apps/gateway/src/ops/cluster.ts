import cluster, { type Worker } from 'node:cluster'
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
import { type DenialEvent, LiveStats, type MetricsJson } from './live-stats.js'
import { planReload } from './reload.js'
import { gatewayLogger, type OperatedGateway, startOperated } from './run.js'

// `workers: N`: a node:cluster primary and N workers. Workers run the forward and reverse listeners
// (the primary holds the listening sockets and hands connections out round robin); the admin listener
// lives in the primary, so /metrics and the dashboard cover every worker (prom-client's
// AggregatorRegistry.aggregate over each worker's registry, fetched over IPC), and admin calls (purge,
// upstreams, reload) are sent to every worker. A worker that dies is replaced; SIGTERM drains them all.

const PREFIX = 'proxykit:'
type Message =
  | { type: 'proxykit:ready' }
  | { type: 'proxykit:denial'; event: DenialEvent }
  | { type: 'proxykit:request'; id: number; op: string; args?: unknown }
  | { type: 'proxykit:response'; id: number; ok: boolean; value?: unknown; error?: string; status?: number }

const isOurs = (m: unknown): m is Message =>
  typeof m === 'object' && m !== null && String((m as { type?: unknown }).type).startsWith(PREFIX)

/** Restarts in a burst before the primary waits before forking again (a worker failing at start). */
const RESTART_BURST = 5
const RESTART_WINDOW_MS = 10_000
const ASK_TIMEOUT_MS = 5_000

// ---------------------------------------------------------------------------------------------------
// Worker side

/** Runs one worker: the data listeners, answering the primary's requests over IPC. */
export async function runWorker(config: GatewayConfig, configFile: string | null): Promise<OperatedGateway> {
  const send = (m: Message) => {
    if (process.connected) process.send?.(m)
  }
  // A SIGHUP meant for the primary (a process-group signal) must not end a worker: reloads come over IPC.
  process.on('SIGHUP', () => {})
  const withoutAdmin = (c: GatewayConfig): GatewayConfig => ({ ...c, admin: null })
  const operated = await startOperated(withoutAdmin(config), {
    configFile,
    sighup: false,
    admin: false,
    adapt: withoutAdmin,
    onDenial: (event) => send({ type: 'proxykit:denial', event }),
  })
  const { gateway } = operated
  // The primary's admin listener is this worker's own too: never a destination of its forward proxy.
  if (config.admin !== null)
    gateway.shared.ownAddresses.push({ address: config.admin.listen.host, port: config.admin.listen.port })
  const ops: Record<string, (args: any) => unknown> = {
    metrics: () => gateway.metrics.registry.getMetricsAsJSON(),
    readiness: () => gateway.controls.readiness(),
    purge: (what) => {
      if (gateway.controls.purge === undefined) throw new ControlError('purge is not available', 501)
      return gateway.controls.purge(what)
    },
    upstreams: ({ method, args }: { method: keyof UpstreamControls; args: unknown[] }) => {
      const u = gateway.controls.upstreams
      if (u === undefined) throw new ControlError('upstream management is not available', 501)
      return (u[method] as (...a: unknown[]) => unknown)(...args)
    },
    reload: () => operated.reload(),
  }
  process.on('message', (m: unknown) => {
    if (!isOurs(m) || m.type !== 'proxykit:request') return
    const op = ops[m.op]
    Promise.resolve()
      .then(() => {
        if (op === undefined) throw new Error(`unknown operation ${m.op}`)
        return op(m.args)
      })
      .then(
        (value) => send({ type: 'proxykit:response', id: m.id, ok: true, value: value ?? null }),
        (err: Error) =>
          send({
            type: 'proxykit:response',
            id: m.id,
            ok: false,
            error: err.message,
            ...(err instanceof ControlError ? { status: err.statusCode } : {}),
          }),
      )
  })
  send({ type: 'proxykit:ready' })
  return operated
}

// ---------------------------------------------------------------------------------------------------
// Primary side

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

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

/**
 * The primary's side of the workers: forking and replacing them, knowing which are ready, and asking
 * them over IPC (one request id, one timeout per question).
 */
class WorkerLink {
  closing = false
  private readonly readyWorkers = new Set<number>()
  private readonly pending = new Map<number, Pending>()
  private readonly readyWaiters: Array<() => void> = []
  private readonly restarts: number[] = []
  private nextId = 1

  constructor(
    private readonly logger: Logger,
    private readonly onDenial: (event: DenialEvent) => void,
  ) {
    cluster.on('exit', (w, code, signal) => this.onExit(w, code, signal))
  }

  fork(): Worker {
    const w = cluster.fork()
    w.on('message', (m: unknown) => this.onMessage(w, m))
    return w
  }

  workers(): Worker[] {
    return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
  }

  readyList(): Worker[] {
    return this.workers().filter((w) => this.readyWorkers.has(w.id) && w.isConnected())
  }

  /** Resolves once `n` workers have reported ready. */
  ready(n: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => {
        if (this.readyList().length >= n) resolve()
        else this.readyWaiters.push(check)
      }
      check()
    })
  }

  ask<T>(w: Worker, op: string, args?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`worker ${w.process.pid} did not answer ${op} within ${ASK_TIMEOUT_MS} ms`))
      }, ASK_TIMEOUT_MS)
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      try {
        w.send({ type: 'proxykit:request', id, op, args } satisfies Message)
      } catch (err) {
        clearTimeout(timer)
        this.pending.delete(id)
        reject(err as Error)
      }
    })
  }

  /** Asks every ready worker; rejects with the first failure. */
  askAll<T>(op: string, args?: unknown): Promise<T[]> {
    return Promise.all(this.readyList().map((w) => this.ask<T>(w, op, args)))
  }

  /** SIGTERM to every worker (each drains on its own), SIGKILL to those outliving `graceMs`. */
  async stopAll(graceMs: number): Promise<number> {
    this.closing = true
    const all = this.workers()
    const exits = all.map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))))
    for (const w of all) w.process.kill('SIGTERM')
    const hard = setTimeout(() => {
      for (const w of all) if (!w.isDead()) w.process.kill('SIGKILL')
    }, graceMs)
    await Promise.all(exits)
    clearTimeout(hard)
    for (const p of this.pending.values()) clearTimeout(p.timer)
    return all.length
  }

  private onMessage(w: Worker, m: unknown): void {
    if (!isOurs(m)) return
    if (m.type === 'proxykit:ready') {
      this.readyWorkers.add(w.id)
      this.logger.info(
        { event: 'worker-ready', worker: w.id, pid: w.process.pid },
        `worker ${w.process.pid} ready`,
      )
      for (const r of this.readyWaiters.splice(0)) r()
    } else if (m.type === 'proxykit:denial') this.onDenial(m.event)
    else if (m.type === 'proxykit:response') {
      const p = this.pending.get(m.id)
      if (p === undefined) return
      this.pending.delete(m.id)
      clearTimeout(p.timer)
      if (m.ok) p.resolve(m.value)
      else p.reject(m.status === undefined ? new Error(m.error) : new ControlError(m.error ?? '', m.status))
    }
  }

  /** A dead worker is replaced, after a pause when they keep dying (a worker failing at start). */
  private onExit(w: Worker, code: number, signal: string): void {
    this.readyWorkers.delete(w.id)
    if (this.closing) return
    const now = Date.now()
    const restarts = this.restarts
    while (restarts.length > 0 && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift()
    restarts.push(now)
    const delay = restarts.length > RESTART_BURST ? 2000 : 0
    this.logger.error(
      { event: 'worker-exit', worker: w.id, pid: w.process.pid, code, signal, restartInMs: delay },
      `worker ${w.process.pid} died (${signal ?? code}); starting a replacement`,
    )
    setTimeout(() => {
      if (!this.closing) this.fork()
    }, delay).unref()
  }
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
