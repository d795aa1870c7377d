import { createHash, randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import type { RedisClient } from '@proxykit/cache/redis'
import type { Logger } from 'pino'
import type { GatewayConfig } from './config/types.js'

/** What one gateway instance says about itself in Redis. */
export interface InstanceInfo {
  id: string
  version: string
  /** Its listeners' URLs (admin, reverse, forward: those it runs). */
  addresses: Record<string, string>
  startedAt: number
  configHash: string
}

export interface InstancesView {
  instances: Array<InstanceInfo & { uptimeMs: number; self: boolean }>
  /** More than one config hash among the live instances: they do not run the same configuration. */
  configMismatch: boolean
}

/** A short, stable digest of the resolved config: equal files give equal hashes. */
export function configHash(config: GatewayConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16)
}

function version(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version
}

/**
 * Instances that see each other: each announces itself in one Redis hash (`<prefix>instances`, a field
 * per instance, so it is one key on a cluster and needs no KEYS or SCAN), with an expiry renewed every
 * third of `ttlMs`; readers skip (and remove) fields past their expiry, so an instance that died leaves
 * the list within `ttlMs`. A clean stop removes its field at once.
 */
export class InstanceRegistry {
  readonly self: InstanceInfo
  readonly #client: RedisClient
  readonly #key: string
  readonly #ttlMs: number
  readonly #logger: Logger
  #timer: NodeJS.Timeout | null = null
  #warned = false

  constructor(client: RedisClient, prefix: string, config: GatewayConfig, logger: Logger, ttlMs = 15_000) {
    this.#client = client
    this.#key = `${prefix}instances`
    this.#ttlMs = ttlMs
    this.#logger = logger
    this.self = {
      id: randomUUID(),
      version: version(),
      addresses: {},
      startedAt: Date.now(),
      configHash: configHash(config),
    }
  }

  start(): void {
    void this.#announce()
    this.#timer = setInterval(() => void this.#announce(), Math.max(100, Math.floor(this.#ttlMs / 3)))
    this.#timer.unref()
  }

  async #announce(): Promise<void> {
    try {
      const record = JSON.stringify({ ...this.self, expiresAt: Date.now() + this.#ttlMs })
      await this.#client.hset(this.#key, this.self.id, record)
      // The hash as a whole outlives every field, and goes when every instance is gone.
      await this.#client.pexpire(this.#key, this.#ttlMs * 4)
      const view = await this.list()
      if (view.configMismatch && !this.#warned) {
        this.#warned = true
        this.#logger.warn(
          {
            event: 'config-mismatch',
            configHash: this.self.configHash,
            others: view.instances
              .filter((i) => !i.self)
              .map((i) => ({ id: i.id, configHash: i.configHash })),
          },
          'gateway instances sharing this Redis run different configurations',
        )
      } else if (!view.configMismatch) this.#warned = false
    } catch {
      // Redis unreachable: the next tick tries again (readiness reports the outage).
    }
  }

  async list(): Promise<InstancesView> {
    const fields = await this.#client.hgetall(this.#key)
    const now = Date.now()
    const gone: string[] = []
    const instances: InstancesView['instances'] = []
    for (const [id, raw] of Object.entries(fields)) {
      let rec: InstanceInfo & { expiresAt: number }
      try {
        rec = JSON.parse(raw)
      } catch {
        gone.push(id)
        continue
      }
      if (!(rec.expiresAt > now)) {
        gone.push(id)
        continue
      }
      const { expiresAt: _, ...info } = rec
      instances.push({ ...info, uptimeMs: now - info.startedAt, self: id === this.self.id })
    }
    if (gone.length > 0) this.#client.hdel(this.#key, ...gone).catch(() => {})
    instances.sort((a, b) => a.startedAt - b.startedAt)
    return { instances, configMismatch: new Set(instances.map((i) => i.configHash)).size > 1 }
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    await this.#client.hdel(this.#key, this.self.id).catch(() => {})
  }
}
