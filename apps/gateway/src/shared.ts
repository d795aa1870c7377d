import type { CacheOptions } from '@proxykit/cache'
import type { RedisClient } from '@proxykit/cache/redis'
import type { OwnAddress } from '@proxykit/forward-proxy'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { GatewayConfig } from './config/types.js'
import type { GatewayMetrics, ListenerName } from './metrics.js'
import type { CertStore } from './tls/certs.js'
import type { AcmeChallenges } from './tls/redirect.js'

/** What every listener is built from: one config, one logger, one metrics registry, one Redis, one cache. */
export interface Shared {
  config: GatewayConfig
  logger: Logger
  metrics: GatewayMetrics
  redis: RedisClient | null
  /** Prefix for every Redis key the gateway writes. */
  redisPrefix: string
  /** @proxykit/cache options; every listener's cache uses the same store. */
  cacheOptions(): CacheOptions
  /**
   * Every address:port the gateway listens on (its listeners as they bind, and in a worker the primary's
   * admin listener): the forward proxy never connects to one of them, whatever `allow` says.
   */
  ownAddresses: OwnAddress[]
  /** The listeners that registered the cache (their `fastify.proxyCache` decorator: purge, counters). */
  caches: Array<{ listener: ListenerName; app: FastifyInstance }>
  /** The certificates of the TLS listeners (one store per listener, kept across reloads); null: plain. */
  tls: { forward: CertStore | null; reverse: CertStore | null }
  /** ACME HTTP-01 answers for the redirect listener (one object, shared by every reload's copy). */
  acme: AcmeChallenges
}
