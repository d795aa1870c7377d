// The plugin's options as a user writes them, and as resolveOptions hands them to the rest of the plugin.
import type { ConnectionOptions } from 'node:tls'
import type { TrustProxy } from '@proxykit/core'
import type { FastifyInstance } from 'fastify'
import type { BalancerName } from './balancers/index.js'
import type { ProxyHooks, ResolvedHooks } from './hooks.js'

export type { ProxyHooks } from './hooks.js'

export interface HealthCheckOptions {
  /** Path requested with GET on each upstream. */
  path?: string
  intervalMs?: number
  timeoutMs?: number
  /** Consecutive passes that bring an unhealthy upstream back. */
  rise?: number
  /** Consecutive failures that take a healthy upstream out. */
  fall?: number
  /** Statuses that count as a pass (default: any 2xx or 3xx). */
  expectedStatus?: number | number[]
}

export interface PassiveHealthOptions {
  /** Consecutive failures that eject an upstream: connect errors, resets, timeouts, and `statuses`. */
  failures: number
  /** First ejection; each further one without a success in between doubles it. */
  ejectMs: number
  maxEjectMs: number
  /**
   * Answer statuses that count as failures (default none: a 500 is the application's answer, and as with
   * nginx's `max_fails` only connection errors and timeouts count unless a route asks for more).
   */
  statuses: number[]
}

export interface RetryOptions {
  /** Further attempts after the first, each on a different upstream when one is left. */
  attempts: number
  /** Retries allowed per request sent (0.2: at most one retry for every five requests)… */
  budgetRatio: number
  /** …plus this many per second, so a quiet route can still retry. */
  minPerSecond: number
}

export interface Timeouts {
  /** TCP (and TLS) connect: a timeout answers 504, a refusal 502. */
  connect: number
  /** From the request sent to the response head: 504. */
  headers: number
  /** Longest silence within a response body: the response is cut short. */
  idle: number
}

export type HashOn = 'ip' | 'path' | `header:${string}` | `cookie:${string}`

export interface UpstreamOption {
  url: string
  weight?: number
}

/** Settings a route inherits from the plugin options when it does not set them. */
export interface RouteDefaults extends ProxyHooks {
  balancer?: BalancerName
  hashOn?: HashOn
  healthCheck?: HealthCheckOptions | false
  passiveHealth?: Partial<PassiveHealthOptions> | false
  retries?: Partial<RetryOptions> | number | false
  timeouts?: Partial<Timeouts>
  /** Send the client's Host to the upstream (default: the upstream's own host, as nginx does). */
  preserveHost?: boolean
  /** Connections per upstream (default: unlimited). */
  connections?: number
  /** TLS options for https upstreams (ca, servername, rejectUnauthorized…). */
  tls?: ConnectionOptions
  /**
   * How requests reach the upstreams: `http1` (default), `h2` (HTTP/2 over TLS, ALPN `h2`: https
   * upstreams) or `h2c` (HTTP/2 with prior knowledge: http upstreams). HTTP/2 carries every request to
   * an upstream on one connection, and passes trailers on (gRPC).
   */
  protocol?: UpstreamProtocol
}

export type UpstreamProtocol = 'http1' | 'h2' | 'h2c'
export const UPSTREAM_PROTOCOLS: readonly UpstreamProtocol[] = ['http1', 'h2', 'h2c']

export interface RouteOptions extends RouteDefaults {
  /** For the decorator API and logs (default: host + prefix). */
  name?: string
  /**
   * Path prefix: the route serves `prefix` and everything below it (default '/'), below the register
   * prefix when there is one. As in @fastify/http-proxy, the prefix is not sent upstream: `rewritePrefix`
   * takes its place.
   */
  prefix?: string
  /**
   * Only requests with this Host, or one of these (port ignored, case-insensitive); `*.example.com` is any
   * subdomain of example.com at any depth, not example.com itself.
   */
  host?: string | string[]
  /**
   * What replaces the matched prefix in the path sent upstream (default '/': `/api/x` → `/x`; '/v1':
   * `/api/x` → `/v1/x`; the prefix itself keeps the path unchanged).
   */
  rewritePrefix?: string
  upstreams: Array<string | UpstreamOption>
  /**
   * Plugins for this route alone (@fastify/cors, @fastify/helmet, @fastify/compress …): called with an
   * encapsulated context of the route's own before its Fastify routes are added there, so the hooks it
   * adds run on this route and no other. A route a plugin adds in it (@fastify/cors's `OPTIONS *`) is
   * narrowed to the route's paths and host.
   */
  register?: (instance: FastifyInstance) => unknown
}

export interface ReverseProxyOptions extends RouteDefaults {
  routes: RouteOptions[]
  /** Fastify's register prefix: every route's prefix is below it, as with any plugin's routes. */
  prefix?: string
  /** Peers whose X-Forwarded-* / Forwarded are kept (default: Fastify's own trustProxy decision). */
  trustProxy?: TrustProxy
  /** Response headers removed so the upstreams stay hidden (default ['server', 'x-powered-by']). */
  hideHeaders?: string[]
  /**
   * Request headers never sent upstream (default ['x-original-url', 'x-rewrite-url']: IIS, Symfony and
   * others route by them, so a client's copy would get past the rules this proxy applied to the path).
   */
  stripRequestHeaders?: string[]
  /** Set X-Forwarded-For / -Proto / -Host (default true). */
  xForwarded?: boolean
  /** Set Forwarded, RFC 7239 (default true). */
  forwarded?: boolean
}

export interface ResolvedHealthCheck {
  path: string
  intervalMs: number
  timeoutMs: number
  rise: number
  fall: number
  expectedStatus: number[] | null
}

/** A route as the plugin uses it: its own fields, and every per-route setting resolved against the defaults. */
export interface ResolvedRoute extends RouteSettings {
  name: string
  /** The whole path prefix the route matches: the context's and register prefix, then the route's own. */
  prefix: string
  /** Host names and `*.` wildcards, lower case; empty: any host. */
  hosts: string[]
  rewritePrefix: string
  upstreams: UpstreamOption[]
  register: ((instance: FastifyInstance) => unknown) | null
}

export interface ResolvedOptions {
  routes: ResolvedRoute[]
  /** The prefix of the Fastify context registered in ('' at the root), which Fastify adds to routes itself. */
  contextPrefix: string
  trustProxy: TrustProxy | undefined
  hideHeaders: string[]
  stripRequestHeaders: string[]
  xForwarded: boolean
  forwarded: boolean
}

/** The settings a route may give itself or inherit from the plugin-level defaults. */
export interface RouteSettings extends ResolvedHooks {
  balancer: BalancerName
  hashOn: HashOn
  healthCheck: ResolvedHealthCheck | false
  passiveHealth: PassiveHealthOptions | false
  retries: RetryOptions | false
  timeouts: Timeouts
  preserveHost: boolean
  connections: number | null
  tls: ConnectionOptions | null
  protocol: UpstreamProtocol
}
