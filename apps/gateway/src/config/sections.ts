// Each section of a validated config document resolved into its GatewayConfig shape: defaults filled in,
// durations in ms, sizes in bytes, listen addresses split. Checks across sections are in checks.ts.
import { resolve } from 'node:path'
import { defaultMaxEntrySize } from '@proxykit/cache'
import { type ReverseFeatureDefaults, resolveRouteFeatures } from '../routes/config.js'
import { resolveRouteSecurity, withinPrefix } from './security.js'
import type {
  Balancer,
  ClientsConfig,
  ClientTimeouts,
  GatewayConfig,
  ProxyProtocolConfig,
  RateLimitConfig,
  RouteConfig,
  TlsConfig,
} from './types.js'
import { parseDuration, parseListen, parseSize } from './units.js'

function clientTimeouts(raw: { header?: string; body?: string; idle?: string } | undefined): ClientTimeouts {
  return {
    headerMs: parseDuration(raw?.header ?? '10s')!,
    bodyMs: parseDuration(raw?.body ?? '30s')!,
    idleMs: parseDuration(raw?.idle ?? '60s')!,
  }
}

/** The balancer names → the reverse proxy's. */
const BALANCER_ALIASES: Record<string, Balancer> = {
  weighted: 'weighted-round-robin',
  'least-connections': 'least-in-flight',
}

function proxyProtocol(
  raw: { from: string[]; timeout?: string | number } | undefined,
): ProxyProtocolConfig | null {
  if (raw === undefined) return null
  return { from: raw.from, timeoutMs: parseDuration(raw.timeout ?? '5s')! }
}

function tlsConfig(
  raw: { certs?: Array<{ cert: string; key: string }>; minVersion: string; acme?: any } | undefined,
  hosts: string[] = [],
): TlsConfig | null {
  if (raw === undefined) return null
  const a = raw.acme
  return {
    certs: (raw.certs ?? []).map((c) => ({ cert: c.cert, key: c.key })),
    minVersion: raw.minVersion as TlsConfig['minVersion'],
    acme:
      a === undefined
        ? null
        : {
            directory: a.directory,
            email: a.email,
            domains: (a.domains ?? [...new Set(hosts)]).map((d: string) => d.toLowerCase()),
            caFile: a.caFile ?? null,
            storage: a.storage,
            renewBeforeMs: parseDuration(a.renewBefore ?? '30d')!,
          },
  }
}

function hsts(raw: number | { maxAge: number; includeSubDomains: boolean; preload: boolean } | undefined) {
  if (raw === undefined) return null
  return typeof raw === 'number'
    ? { maxAge: raw, includeSubDomains: false, preload: false }
    : { maxAge: raw.maxAge, includeSubDomains: raw.includeSubDomains, preload: raw.preload }
}

function clients(raw: { allow?: string[]; deny: string[] } | undefined): ClientsConfig | null {
  if (raw === undefined) return null
  return { allow: raw.allow ?? null, deny: raw.deny }
}

function rateLimit(
  raw: { max: number; timeWindow: string | number; key?: string } | undefined,
): RateLimitConfig | null {
  if (raw === undefined) return null
  const limit = { max: raw.max, timeWindowMs: parseDuration(raw.timeWindow)! }
  return raw.key === undefined || raw.key === 'client' ? limit : { ...limit, key: raw.key }
}

function logFile(raw: any): GatewayConfig['log']['file'] {
  if (raw === undefined) return null
  const every = raw.rotate?.every
  return {
    path: resolve(raw.path),
    rotate: {
      sizeBytes: raw.rotate?.size === undefined ? null : parseSize(raw.rotate.size),
      everyMs:
        every === undefined ? null : every === 'hourly' || every === 'daily' ? every : parseDuration(every),
      keep: raw.rotate?.keep ?? null,
    },
  }
}

/** One `reverse.routes[i]` entry, resolved; problems found on the way go to `problems`. */
export function resolveRoute(
  r: any,
  i: number,
  reverseDoc: any,
  reverseDefaults: ReverseFeatureDefaults,
  problems: string[],
): RouteConfig {
  const hc = r.healthCheck
  const ph = r.passiveHealth ?? {}
  const features = resolveRouteFeatures(r, reverseDefaults, `reverse.routes[${i}]`, problems)
  return {
    ...features,
    name: r.name ?? `${features.hosts.join(',')}${r.prefix}`,
    prefix: r.prefix,
    rewritePrefix: r.rewritePrefix ?? null,
    preserveHost: r.preserveHost,
    upstreams: (r.upstreams ?? []).map((u: string | { url: string; weight?: number }) =>
      typeof u === 'string' ? { url: u, weight: 1 } : { url: u.url, weight: u.weight ?? 1 },
    ),
    balancer: BALANCER_ALIASES[r.balancer] ?? r.balancer,
    hashOn: r.hashOn ?? null,
    healthCheck:
      hc === undefined
        ? null
        : {
            path: hc.path,
            intervalMs: parseDuration(hc.interval)!,
            timeoutMs: parseDuration(hc.timeout)!,
            fall: hc.fall,
            rise: hc.rise,
          },
    passiveHealth:
      ph === false
        ? false
        : {
            failures: ph.failures ?? 3,
            ejectMs: parseDuration(ph.ejectTime ?? '5s')!,
            statuses: ph.statuses ?? [],
          },
    retries: r.retries,
    timeoutMs: parseDuration(r.timeout)!,
    protocol: r.protocol,
    cache: r.cache,
    deny: r.deny,
    rateLimit: rateLimit(r.rateLimit),
    clients: clients(r.clients),
    ...resolveRouteSecurity(r, reverseDoc, `reverse.routes[${i}]`, withinPrefix(r.prefix), problems),
  }
}

export function resolveForward(f: any): GatewayConfig['forward'] {
  if (f === undefined) return null
  return {
    listen: parseListen(f.listen)!,
    tls: tlsConfig(f.tls),
    mode: f.mode,
    connectPorts: f.connectPorts,
    ports: f.ports,
    allow: f.allow ?? null,
    deny: f.deny,
    allowPrivate: f.allowPrivate,
    clients: clients(f.clients),
    rules: f.rules ?? [],
    accessMode: f.accessMode ?? 'enforce',
    auth: f.auth === undefined ? null : { realm: f.auth.realm, users: f.auth.users },
    cache: f.cache,
    rateLimit: rateLimit(f.rateLimit),
    timeoutMs: parseDuration(f.timeout)!,
    parent:
      f.parent === undefined
        ? null
        : {
            url: f.parent.url,
            username: f.parent.username ?? null,
            password: f.parent.password ?? null,
          },
    clientTimeouts: clientTimeouts(f.clientTimeouts),
    maxConnectionsPerClient: f.maxConnectionsPerClient ?? 256,
    proxyProtocol: proxyProtocol(f.proxyProtocol),
  }
}

export function resolveReverse(
  rev: any,
  routes: RouteConfig[],
  reverseDefaults: ReverseFeatureDefaults,
): GatewayConfig['reverse'] {
  if (rev === undefined) return null
  return {
    listen: parseListen(rev.listen)!,
    tls: tlsConfig(
      rev.tls,
      // HTTP-01 cannot prove a wildcard: `*.` hosts are not domains to order.
      routes.flatMap((r) => r.hosts.filter((h) => !h.startsWith('*.'))),
    ),
    http2: rev.http2 ?? rev.tls !== undefined,
    redirectHttp: rev.redirectHttp === undefined ? null : parseListen(rev.redirectHttp)!,
    hsts: hsts(rev.hsts),
    trustProxy: rev.trustProxy ?? false,
    clients: clients(rev.clients),
    stripRequestHeaders: rev.stripRequestHeaders.map((h: string) => h.toLowerCase()),
    rules: rev.rules ?? [],
    accessMode: rev.accessMode ?? 'enforce',
    routes,
    headers: reverseDefaults.headers,
    redirects: reverseDefaults.redirects,
    bodyLimit: reverseDefaults.bodyLimit,
    maxHeaderSize: reverseDefaults.maxHeaderSize,
    clientTimeouts: clientTimeouts(rev.clientTimeouts),
    maxConnectionsPerClient: rev.maxConnectionsPerClient ?? 256,
    proxyProtocol: proxyProtocol(rev.proxyProtocol),
  }
}

export function resolveCache(cacheDoc: any): GatewayConfig['cache'] {
  return {
    store: cacheDoc.store ?? 'memory',
    maxSize: parseSize(cacheDoc.maxSize ?? '64MiB')!,
    local: cacheDoc.local === undefined ? 0 : parseSize(cacheDoc.local)!,
    maxEntrySize:
      cacheDoc.maxEntrySize === undefined
        ? defaultMaxEntrySize(parseSize(cacheDoc.maxSize ?? '64MiB')!)
        : parseSize(cacheDoc.maxEntrySize)!,
    targetedCacheControl: cacheDoc.targetedCacheControl ?? [],
  }
}

export function resolveRedis(raw: any): GatewayConfig['redis'] {
  if (raw === undefined) return null
  if (typeof raw === 'string')
    return { connection: { url: raw }, prefix: 'proxykit:gateway:', rateLimits: 'fail-open' }
  return {
    connection:
      raw.cluster !== undefined
        ? { cluster: raw.cluster }
        : raw.sentinels !== undefined
          ? { sentinels: raw.sentinels, name: raw.name }
          : { url: raw.url },
    prefix: raw.prefix ?? 'proxykit:gateway:',
    rateLimits: raw.rateLimits ?? 'fail-open',
  }
}

export function resolveLog(raw: any): GatewayConfig['log'] {
  return {
    level: raw?.level ?? 'info',
    access: raw?.access ?? true,
    file: logFile(raw?.file),
    fields: raw?.fields ?? null,
  }
}
