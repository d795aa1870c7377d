// Making an ioredis client for one server, a Redis Cluster or a Sentinel group from URLs, for the stores
// and for callers (the gateway's rate-limit counters, ACME state) that share one connection setup.
import { type OptionChecks, optionChecks } from '@proxykit/core'
import { Cluster, Redis, type RedisOptions } from 'ioredis'

/**
 * Where Redis is: one server (`url`), a Redis Cluster (`cluster`: some of its nodes' URLs, the others are
 * discovered) or a Sentinel group (`sentinels`: the sentinels' URLs, and the monitored group's `name`).
 * Credentials and TLS come from the URLs (`rediss:`); a cluster's node URLs carry the nodes' credentials,
 * the sentinels' URLs the sentinels' own.
 */
export type RedisConnection =
  | { url: string; cluster?: undefined; sentinels?: undefined }
  | { cluster: string[]; url?: undefined; sentinels?: undefined }
  | { sentinels: string[]; name: string; url?: undefined; cluster?: undefined }

/** An ioredis client of either kind: both run every command the stores use. */
export type RedisClient = Redis | Cluster

// Bad connection options are PK_INVALID_OPTION, naming whose option it is: the store's (its checks passed
// in), or this function's.
const clientOption = optionChecks('createRedisClient')

function endpoint(
  raw: string,
  option: string,
  check: OptionChecks,
): { host: string; port: number; options: RedisOptions } {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw check.invalid(option, `${JSON.stringify(raw)} is not a redis:// or rediss:// URL`)
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw check.invalid(option, `${JSON.stringify(raw)} is not a redis:// or rediss:// URL`)
  const options: RedisOptions = {}
  if (u.username !== '') options.username = decodeURIComponent(u.username)
  if (u.password !== '') options.password = decodeURIComponent(u.password)
  if (u.protocol === 'rediss:') options.tls = { servername: u.hostname }
  const db = u.pathname.replace(/^\//, '')
  if (db !== '') options.db = Number(db)
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379), options }
}

/**
 * Makes an ioredis client for `connection` with `options` (the per-connection settings: timeouts, retry
 * strategy, offline queue). A cluster client follows slot moves and promoted replicas by itself; a
 * Sentinel client asks the sentinels for the primary on every reconnect.
 */
export function createRedisClient(connection: RedisConnection, options: RedisOptions = {}): RedisClient {
  return redisClient(connection, options, clientOption)
}

/** `createRedisClient` with the option errors named by `check` (the RedisStore's own, for its options). */
export function redisClient(
  connection: RedisConnection,
  options: RedisOptions,
  check: OptionChecks,
): RedisClient {
  if (connection.cluster !== undefined) {
    if (!Array.isArray(connection.cluster) || connection.cluster.length === 0)
      throw check.invalid('cluster', 'must list at least one node URL')
    const nodes = connection.cluster.map((u, i) => endpoint(u, `cluster[${i}]`, check))
    const { enableOfflineQueue, lazyConnect, enableAutoPipelining, ...redisOptions } = options
    return new Cluster(
      nodes.map(({ host, port }) => ({ host, port })),
      {
        redisOptions: { ...redisOptions, ...nodes[0]!.options, db: undefined },
        ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
        ...(lazyConnect === undefined ? {} : { lazyConnect }),
        ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
        clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
        // A command retried through a failover (CLUSTERDOWN, a closed connection: 100 ms apart, refreshing
        // the slots each time) gives up after 6 tries rather than ioredis's 16: a lookup then goes to the
        // origin within a second instead of waiting out the election; MOVED after it needs one or two.
        maxRedirections: 6,
      },
    )
  }
  if (connection.sentinels !== undefined) {
    if (!Array.isArray(connection.sentinels) || connection.sentinels.length === 0)
      throw check.invalid('sentinels', 'must list at least one sentinel URL')
    if (typeof connection.name !== 'string' || connection.name === '')
      throw check.invalid('name', 'the Sentinel group name is required with sentinels')
    const sentinels = connection.sentinels.map((u, i) => endpoint(u, `sentinels[${i}]`, check))
    const first = sentinels[0]!.options
    return new Redis({
      ...options,
      sentinels: sentinels.map(({ host, port }) => ({ host, port })),
      name: connection.name,
      ...(first.username === undefined ? {} : { sentinelUsername: first.username }),
      ...(first.password === undefined ? {} : { sentinelPassword: first.password }),
      ...(first.tls === undefined ? {} : { sentinelTLS: first.tls, enableTLSForSentinelMode: true }),
    })
  }
  if (typeof connection.url !== 'string') throw check.invalid('url', 'pass url, cluster or sentinels')
  endpoint(connection.url, 'url', check)
  return new Redis(connection.url, options)
}
