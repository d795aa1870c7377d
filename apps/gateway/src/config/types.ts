import type { RedisConnection } from '@proxykit/cache/redis'
import type { HeadersConfig, RedirectRule, RouteFeatures } from '../routes/types.js'
import type { RouteSecurity, RuleConfig } from './security.js'
import type { ListenAddress } from './units.js'

// The resolved configuration: the file after validation, defaults filled in, durations in milliseconds,
// sizes in bytes and listen addresses split. Everything the gateway runs from; `--check` prints it.

export type { ListenAddress }

export interface RateLimitConfig {
  max: number
  timeWindowMs: number
  /** Routes only: `client`, `user` or `claim:NAME`. */
  key?: string
}

export interface UpstreamConfig {
  url: string
  weight: number
}

export type Balancer =
  | 'round-robin'
  | 'weighted-round-robin'
  | 'least-in-flight'
  | 'p2c'
  | 'p2c-latency'
  | 'consistent-hash'

export interface HealthCheckConfig {
  path: string
  intervalMs: number
  timeoutMs: number
  fall: number
  rise: number
}

export interface PassiveHealthConfig {
  failures: number
  ejectMs: number
  statuses: number[]
}

/** Client addresses allowed or denied: addresses, CIDRs and address classes. */
export interface ClientsConfig {
  /** null: every client not denied. */
  allow: string[] | null
  deny: string[]
}

/** A route; `hosts`, `headers` … (issue 27's keys) are in RouteFeatures, `auth`, `rules`, cors … in RouteSecurity. */
export interface RouteConfig extends RouteFeatures, RouteSecurity {
  name: string
  prefix: string
  rewritePrefix: string | null
  preserveHost: boolean
  /** Empty for a route that answers itself (`respond`, `static`). */
  upstreams: UpstreamConfig[]
  balancer: Balancer
  hashOn: string | null
  healthCheck: HealthCheckConfig | null
  /** false: off. */
  passiveHealth: PassiveHealthConfig | false
  retries: number
  timeoutMs: number
  /** How requests reach the upstreams. */
  protocol: 'http1' | 'h2' | 'h2c'
  cache: boolean
  deny: string[]
  rateLimit: RateLimitConfig | null
  clients: ClientsConfig | null
}

/** How long a client may take (ms): its request head, a silence within its body, a keep-alive wait. */
export interface ClientTimeouts {
  headerMs: number
  bodyMs: number
  idleMs: number
}

/** PROXY protocol (v1 and v2) on a listener: which peers must send it, how long they may take. */
export interface ProxyProtocolConfig {
  /** Addresses and CIDRs of the balancers in front. */
  from: string[]
  timeoutMs: number
}

/** A TLS listener's certificates (files, read by tls/certs.ts) and protocol floor. */
export interface TlsConfig {
  certs: Array<{ cert: string; key: string }>
  minVersion: 'TLSv1.2' | 'TLSv1.3'
  /** Automatic certificates (reverse listener only); null: none. */
  acme: AcmeConfig | null
}

export interface AcmeConfig {
  directory: string
  email: string
  /** Resolved: the configured names, or every route host. */
  domains: string[]
  caFile: string | null
  storage: string
  renewBeforeMs: number
}

export interface HstsConfig {
  maxAge: number
  includeSubDomains: boolean
  preload: boolean
}

export interface ForwardConfig {
  listen: ListenAddress
  /** null: plain HTTP. */
  tls: TlsConfig | null
  mode: 'anonymous' | 'transparent'
  connectPorts: number[]
  /** Ports plain-HTTP requests may reach: numbers and 'low-high' ranges. */
  ports: Array<number | string>
  /** null: every destination not denied. */
  allow: string[] | null
  deny: string[]
  allowPrivate: boolean
  clients: ClientsConfig | null
  rules: RuleConfig[]
  accessMode: 'enforce' | 'report'
  auth: { realm: string; users: Record<string, string> } | null
  cache: boolean
  rateLimit: RateLimitConfig | null
  timeoutMs: number
  parent: { url: string; username: string | null; password: string | null } | null
  clientTimeouts: ClientTimeouts
  /** 0: no cap. */
  maxConnectionsPerClient: number
  proxyProtocol: ProxyProtocolConfig | null
}

export interface ReverseConfig {
  listen: ListenAddress
  /** null: plain HTTP. */
  tls: TlsConfig | null
  /** HTTP/2 by ALPN beside HTTP/1.1 (TLS only). */
  http2: boolean
  /** The plain listener answering 301 to https (and ACME HTTP-01 challenges); null: none. */
  redirectHttp: ListenAddress | null
  hsts: HstsConfig | null
  /** Fastify's `trustProxy` for the listener: false, true, or addresses/CIDRs. */
  trustProxy: boolean | string[]
  clients: ClientsConfig | null
  stripRequestHeaders: string[]
  /** Checked after each route's own rules. */
  rules: RuleConfig[]
  accessMode: 'enforce' | 'report'
  routes: RouteConfig[]
  /** Defaults of every route (already merged into each), and what a request no route took gets. */
  headers: HeadersConfig | null
  redirects: RedirectRule[]
  bodyLimit: number | null
  /** Largest request head, bytes (Node's maxHeaderSize: 431 over it). */
  maxHeaderSize: number
  clientTimeouts: ClientTimeouts
  /** 0: no cap. */
  maxConnectionsPerClient: number
  proxyProtocol: ProxyProtocolConfig | null
}

export interface CacheConfig {
  store: 'memory' | 'redis'
  maxSize: number
  maxEntrySize: number
  /** Bytes of the in-process tier in front of the Redis store; 0 for none. */
  local: number
  /** Targeted cache-control field names (RFC 9213) the reverse listener's cache obeys; [] for none. */
  targetedCacheControl: string[]
}

export interface AdminConfig {
  listen: ListenAddress
  token: string | null
}

export interface GatewayConfig {
  forward: ForwardConfig | null
  reverse: ReverseConfig | null
  cache: CacheConfig
  redis: {
    /** Where Redis is: one server, a cluster or a Sentinel group (as @proxykit/cache/redis takes it). */
    connection: RedisConnection
    prefix: string
    rateLimits: 'fail-open' | 'fail-closed'
  } | null
  /** Worker processes (`"auto"` resolved to the number of cores); 1 runs everything in one process. */
  workers: number
  admin: AdminConfig | null
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    access: boolean
    /** Access lines to this file (rotated) instead of stdout; null: stdout. */
    file: {
      path: string
      rotate: { sizeBytes: number | null; everyMs: number | 'hourly' | 'daily' | null; keep: number | null }
    } | null
    /** The access line's fields kept; null: all. */
    fields: string[] | null
  }
  shutdown: { graceMs: number }
}
