import type { OwnAddress } from '@proxykit/forward-proxy'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { gatewayLogger as makeLogger } from '../access-line.js'
import { ConfigError, loadConfigFile } from '../config/parse.js'
import type { GatewayConfig } from '../config/types.js'
import { type Gateway, startGateway } from '../gateway.js'
import { opsRoutes, type ReloadResult } from './admin-routes.js'
import { denialHook } from './denials.js'
import { type DenialEvent, LiveStats } from './live-stats.js'
import { Reloader } from './reload.js'

export interface OperatedGateway {
  gateway: Gateway
  live: LiveStats
  reloader: Reloader
  /** Re-reads the config file and swaps what changed (what SIGHUP and `POST /reload` do). */
  reload(): Promise<ReloadResult>
  close(): Promise<void>
}

export interface OperatedOptions {
  /** The file SIGHUP and `POST /reload` re-read (null: the built-in demo, which cannot reload). */
  configFile: string | null
  /** Where denials go besides the local dashboard (a worker sends them to the primary). */
  onDenial?: (event: DenialEvent) => void
  /** Install the SIGHUP handler (default true; workers get reloads from the primary instead). */
  sighup?: boolean
  /** The admin listener's routes (false in a worker: the primary serves the admin listener). */
  admin?: boolean
  /**
   * What this process runs of a config read from the file, applied to every reload as it was to the
   * first config (a worker drops `admin`, which the primary serves; otherwise each reload would see the
   * file's admin section as a change needing a restart).
   */
  adapt?: (config: GatewayConfig) => GatewayConfig
  /** Addresses that are this process's own besides its listeners (a worker: the primary's admin). */
  ownAddresses?: OwnAddress[]
}

/** A logger whose access lines also feed the dashboard's recent-denials list (and go to `log.file`). */
export function gatewayLogger(config: GatewayConfig, onDenial: (e: DenialEvent) => void): Logger {
  return makeLogger(config, onDenial, denialHook(onDenial).hooks!.logMethod!)
}

/**
 * The gateway with its operations layer: the live dashboard feed, hot reload on SIGHUP and
 * `POST /reload`, and the logger that feeds recent denials. One process; see cluster.ts for `workers`.
 */
export async function startOperated(
  config: GatewayConfig,
  options: OperatedOptions,
): Promise<OperatedGateway> {
  let gateway: Gateway | null = null
  let reloader: Reloader | null = null
  const live = new LiveStats({
    read: async () => (gateway === null ? [] : gateway.metrics.registry.getMetricsAsJSON()),
  })
  const logger = gatewayLogger(config, (e) => {
    live.recordDenial(e)
    options.onDenial?.(e)
  })
  const reload = async (): Promise<ReloadResult> => {
    if (reloader === null)
      return { ok: false, error: 'the gateway is still starting', applied: [], restartNeeded: [] }
    if (options.configFile === null)
      return {
        ok: false,
        error: 'the built-in demo has no config file to reload',
        applied: [],
        restartNeeded: [],
      }
    return reloader.reload()
  }
  const file = options.configFile
  const adminRoutes = async (app: FastifyInstance) =>
    opsRoutes(app, { token: config.admin?.token ?? null, live, reload })
  try {
    gateway = await startGateway(config, {
      logger,
      ...(options.admin === false ? {} : { adminRoutes }),
      ...(options.ownAddresses === undefined ? {} : { ownAddresses: options.ownAddresses }),
    })
  } catch (err) {
    live.close()
    throw err
  }
  const adapt = options.adapt ?? ((c: GatewayConfig) => c)
  reloader = new Reloader(gateway, async () => {
    if (file === null) throw new ConfigError(['(file): no config file'])
    return adapt(await loadConfigFile(file))
  })
  const onHup = () => {
    logger.info({ event: 'reload', signal: 'SIGHUP' }, 'SIGHUP: reloading the configuration')
    void reload()
  }
  if (options.sighup !== false) process.on('SIGHUP', onHup)
  const g = gateway
  const r = reloader
  return {
    gateway: g,
    live,
    reloader: r,
    reload,
    async close() {
      process.removeListener('SIGHUP', onHup)
      live.close()
      await g.close()
      await r.close()
    },
  }
}
