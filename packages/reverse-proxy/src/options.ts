import type { ConnectionOptions } from 'node:tls'
import { isPlainObject, optionChecks, type TrustProxy } from '@proxykit/core'
import type { FastifyInstance } from 'fastify'
import { BALANCERS, type BalancerName } from './balancers/index.js'
import { HOOK_NAMES, type ProxyHooks, type ResolvedHooks } from './hooks.js'

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

export const DEFAULT_TIMEOUTS: Timeouts = { connect: 5_000, headers: 30_000, idle: 60_000 }
export const DEFAULT_HEALTH_CHECK: ResolvedHealthCheck = {
  path: '/',
  intervalMs: 5_000,
  timeoutMs: 2_000,
  rise: 2,
  fall: 3,
  expectedStatus: null,
}
export const DEFAULT_PASSIVE_HEALTH: PassiveHealthOptions = {
  failures: 3,
  ejectMs: 5_000,
  maxEjectMs: 60_000,
  statuses: [],
}
export const DEFAULT_RETRIES: RetryOptions = { attempts: 1, budgetRatio: 0.2, minPerSecond: 10 }
export const DEFAULT_HIDE_HEADERS = ['server', 'x-powered-by']
export const DEFAULT_STRIP_REQUEST_HEADERS = ['x-original-url', 'x-rewrite-url']
export const DEFAULT_BALANCER: BalancerName = 'weighted-round-robin'

const check = optionChecks('@proxykit/reverse-proxy')
const { invalid } = check
const isObject = isPlainObject
const positiveInt = check.integer
const bool = check.boolean

function prefixPath(v: unknown, path: string, fallback: string): string {
  if (v === undefined) return fallback
  if (typeof v !== 'string' || !v.startsWith('/') || /[\s?#*:]/.test(v))
    throw invalid(path, "must be a path starting with '/' (no spaces, '?', '#', '*' or ':')")
  return v.length > 1 && v.endsWith('/') ? v.slice(0, -1) : v
}

function upstream(v: unknown, path: string): UpstreamOption {
  const raw = isObject(v) ? v.url : v
  const where = isObject(v) ? `${path}.url` : path
  let url: URL
  try {
    if (typeof raw !== 'string') throw new Error()
    url = new URL(raw)
  } catch {
    throw invalid(where, 'must be an http(s) URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(where, 'must be an http(s) URL')
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '')
    throw invalid(where, 'must be an origin (scheme, host, port) without path, query or credentials')
  const weight = isObject(v) ? positiveInt(v.weight, `${path}.weight`, 1) : 1
  if (weight > 1000) throw invalid(`${path}.weight`, 'must be at most 1000')
  return { url: url.origin, weight }
}

function healthCheck(
  v: unknown,
  path: string,
  fallback: ResolvedHealthCheck | false,
): ResolvedHealthCheck | false {
  if (v === undefined) return fallback
  if (v === false) return false
  if (!isObject(v)) throw invalid(path, 'must be an object or false')
  const base = fallback === false ? DEFAULT_HEALTH_CHECK : fallback
  let expected: number[] | null = base.expectedStatus
  if (v.expectedStatus !== undefined) {
    const list = Array.isArray(v.expectedStatus) ? v.expectedStatus : [v.expectedStatus]
    if (list.length === 0 || !list.every((s) => Number.isInteger(s) && s >= 100 && s <= 599))
      throw invalid(`${path}.expectedStatus`, 'must be a status code (100-599) or a non-empty list of them')
    expected = list as number[]
  }
  const hc: ResolvedHealthCheck = {
    path: prefixPath(v.path, `${path}.path`, base.path),
    intervalMs: positiveInt(v.intervalMs, `${path}.intervalMs`, base.intervalMs, 10),
    timeoutMs: positiveInt(v.timeoutMs, `${path}.timeoutMs`, base.timeoutMs),
    rise: positiveInt(v.rise, `${path}.rise`, base.rise),
    fall: positiveInt(v.fall, `${path}.fall`, base.fall),
    expectedStatus: expected,
  }
  if (typeof v.path === 'string' && v.path.includes('?')) hc.path = v.path
  return hc
}

function passiveHealth(
  v: unknown,
  path: string,
  fallback: PassiveHealthOptions | false,
): PassiveHealthOptions | false {
  if (v === undefined) return fallback
  if (v === false) return false
  if (!isObject(v)) throw invalid(path, 'must be an object or false')
  const base = fallback === false ? DEFAULT_PASSIVE_HEALTH : fallback
  let statuses = base.statuses
  if (v.statuses !== undefined) {
    if (!Array.isArray(v.statuses) || !v.statuses.every((s) => Number.isInteger(s) && s >= 100 && s <= 599))
      throw invalid(`${path}.statuses`, 'must be a list of status codes (100-599)')
    statuses = v.statuses as number[]
  }
  const p: PassiveHealthOptions = {
    failures: positiveInt(v.failures, `${path}.failures`, base.failures),
    ejectMs: positiveInt(v.ejectMs, `${path}.ejectMs`, base.ejectMs),
    maxEjectMs: positiveInt(v.maxEjectMs, `${path}.maxEjectMs`, base.maxEjectMs),
    statuses,
  }
  if (p.maxEjectMs < p.ejectMs) throw invalid(`${path}.maxEjectMs`, 'must be >= ejectMs')
  return p
}

function retries(v: unknown, path: string, fallback: RetryOptions | false): RetryOptions | false {
  if (v === undefined) return fallback
  if (v === false || v === 0) return false
  const base = fallback === false ? DEFAULT_RETRIES : fallback
  if (typeof v === 'number') return { ...base, attempts: positiveInt(v, path, 1) }
  if (!isObject(v)) throw invalid(path, 'must be a number of retries, an object or false')
  const ratio = v.budgetRatio === undefined ? base.budgetRatio : v.budgetRatio
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1))
    throw invalid(`${path}.budgetRatio`, 'must be a number from 0 to 1')
  return {
    attempts: positiveInt(v.attempts, `${path}.attempts`, base.attempts),
    budgetRatio: ratio,
    minPerSecond: positiveInt(v.minPerSecond, `${path}.minPerSecond`, base.minPerSecond, 0),
  }
}

function timeouts(v: unknown, path: string, fallback: Timeouts): Timeouts {
  if (v === undefined) return fallback
  if (!isObject(v)) throw invalid(path, 'must be an object { connect, headers, idle } in ms')
  return {
    connect: positiveInt(v.connect, `${path}.connect`, fallback.connect),
    headers: positiveInt(v.headers, `${path}.headers`, fallback.headers),
    idle: positiveInt(v.idle, `${path}.idle`, fallback.idle),
  }
}

function hashOn(v: unknown, path: string, fallback: HashOn): HashOn {
  if (v === undefined) return fallback
  if (typeof v !== 'string' || !/^(ip|path|header:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|cookie:[^=;,\s]+)$/.test(v))
    throw invalid(path, "must be 'ip', 'path', 'header:NAME' or 'cookie:NAME'")
  return v as HashOn
}

function balancer(v: unknown, path: string, fallback: BalancerName): BalancerName {
  if (v === undefined) return fallback
  if (typeof v !== 'string' || !(BALANCERS as readonly string[]).includes(v))
    throw invalid(path, `must be one of ${BALANCERS.join(', ')}`)
  return v as BalancerName
}

function headerNames(v: unknown, path: string, fallback: string[]): string[] {
  if (v === undefined) return fallback
  if (!Array.isArray(v) || !v.every((h) => typeof h === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(h)))
    throw invalid(path, 'must be an array of header names')
  return v.map((h: string) => h.toLowerCase())
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

function hooks(v: Record<string, unknown>, at: (k: string) => string, base: ResolvedHooks): ResolvedHooks {
  const out = { ...base }
  for (const name of HOOK_NAMES) {
    const f = v[name]
    if (f === undefined) continue
    if (typeof f !== 'function') throw invalid(at(name), 'must be a function')
    out[name] = f as never
  }
  return out
}

function defaults(v: Record<string, unknown>, path: string, base: RouteSettings): RouteSettings {
  const at = (k: string) => (path === '' ? k : `${path}.${k}`)
  if (v.tls !== undefined && !isObject(v.tls)) throw invalid(at('tls'), 'must be an object')
  if (v.passive !== undefined)
    throw invalid(at('passive'), 'is now passiveHealth: { failures, ejectMs, maxEjectMs, statuses }')
  return {
    ...hooks(v, at, base),
    balancer: balancer(v.balancer, at('balancer'), base.balancer),
    hashOn: hashOn(v.hashOn, at('hashOn'), base.hashOn),
    healthCheck: healthCheck(v.healthCheck, at('healthCheck'), base.healthCheck),
    passiveHealth: passiveHealth(v.passiveHealth, at('passiveHealth'), base.passiveHealth),
    retries: retries(v.retries, at('retries'), base.retries),
    timeouts: timeouts(v.timeouts, at('timeouts'), base.timeouts),
    preserveHost: bool(v.preserveHost, at('preserveHost'), base.preserveHost),
    connections:
      v.connections === undefined ? base.connections : positiveInt(v.connections, at('connections'), 1),
    tls: (v.tls as ConnectionOptions | undefined) ?? base.tls,
    protocol: protocol(v.protocol, at('protocol'), base.protocol),
  }
}

function protocol(v: unknown, path: string, fallback: UpstreamProtocol): UpstreamProtocol {
  if (v === undefined) return fallback
  if (typeof v !== 'string' || !(UPSTREAM_PROTOCOLS as readonly string[]).includes(v))
    throw invalid(path, `must be one of ${UPSTREAM_PROTOCOLS.join(', ')}`)
  return v as UpstreamProtocol
}

/** h2 needs TLS (ALPN), h2c cleartext: the upstream's scheme must fit the route's protocol. */
export function protocolMismatch(protocol: UpstreamProtocol, url: string): string | null {
  const secure = url.startsWith('https:')
  if (protocol === 'h2' && !secure)
    return 'must be an https URL: protocol h2 is HTTP/2 over TLS (h2c is cleartext)'
  if (protocol === 'h2c' && secure)
    return 'must be an http URL: protocol h2c is cleartext HTTP/2 (h2 is over TLS)'
  return null
}

const HOST = /^(?:\*\.)?[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$|^\[[0-9A-Fa-f:.]+\]$/

function hostList(v: unknown, path: string): string[] {
  if (v === undefined) return []
  const list = Array.isArray(v) ? v : [v]
  list.forEach((h, i) => {
    if (typeof h !== 'string' || !HOST.test(h) || (h.startsWith('*.') && h.includes('[')))
      throw invalid(
        Array.isArray(v) ? `${path}[${i}]` : path,
        "must be a hostname without port, or '*.' and a domain",
      )
  })
  if (list.length === 0) throw invalid(path, 'must not be an empty list')
  return list.map((h: string) => h.toLowerCase())
}

/** `/v1` + `/api` → `/v1/api`; `/v1` + `/` → `/v1`; `` + `/api` → `/api`. */
export function joinPrefix(mount: string, prefix: string): string {
  if (mount === '' || mount === '/') return prefix
  return prefix === '/' ? mount : mount + prefix
}

/**
 * Checks and completes the plugin options once, at registration; every message names the bad option.
 * `contextPrefix` is the prefix of the Fastify context the plugin is registered in (`fastify.prefix`).
 */
export function resolveOptions(input: unknown, contextPrefix = ''): ResolvedOptions {
  if (!isObject(input)) throw invalid('options', 'must be an object')
  const context = contextPrefix === '' ? '' : prefixPath(contextPrefix, 'the Fastify context prefix', '/')
  const mount = joinPrefix(context, prefixPath(input.prefix, 'prefix', '/'))
  const base = defaults(input, '', {
    balancer: DEFAULT_BALANCER,
    hashOn: 'ip',
    healthCheck: false,
    passiveHealth: DEFAULT_PASSIVE_HEALTH,
    retries: DEFAULT_RETRIES,
    timeouts: DEFAULT_TIMEOUTS,
    preserveHost: false,
    connections: null,
    tls: null,
    protocol: 'http1',
    rewriteRequestHeaders: null,
    rewriteHeaders: null,
    rewritePath: null,
    getUpstream: null,
    onError: null,
  })
  if (!Array.isArray(input.routes) || input.routes.length === 0)
    throw invalid('routes', 'must be a non-empty array')
  const names = new Set<string>()
  const routes = input.routes.map((r: unknown, i: number): ResolvedRoute => {
    const path = `routes[${i}]`
    if (!isObject(r)) throw invalid(path, 'must be an object')
    const prefix = joinPrefix(mount, prefixPath(r.prefix, `${path}.prefix`, '/'))
    const hosts = hostList(r.host, `${path}.host`)
    const rewritePrefix = prefixPath(r.rewritePrefix, `${path}.rewritePrefix`, '/')
    if (!Array.isArray(r.upstreams) || r.upstreams.length === 0)
      throw invalid(`${path}.upstreams`, 'must be a non-empty array')
    const upstreams = r.upstreams.map((u: unknown, j: number) => upstream(u, `${path}.upstreams[${j}]`))
    const seen = new Set<string>()
    upstreams.forEach((u, j) => {
      if (seen.has(u.url)) throw invalid(`${path}.upstreams[${j}]`, `duplicates ${u.url}`)
      seen.add(u.url)
    })
    const name = r.name === undefined ? `${hosts.join(',')}${prefix}` : r.name
    if (typeof name !== 'string' || name === '') throw invalid(`${path}.name`, 'must be a non-empty string')
    if (names.has(name)) throw invalid(`${path}.name`, `duplicates the route name '${name}'`)
    names.add(name)
    if (r.register !== undefined && typeof r.register !== 'function')
      throw invalid(`${path}.register`, 'must be a function (instance) => void or a promise')
    const register = (r.register as ResolvedRoute['register'] | undefined) ?? null
    const settings = defaults(r, path, base)
    upstreams.forEach((u, j) => {
      const wrong = protocolMismatch(settings.protocol, u.url)
      if (wrong !== null) throw invalid(`${path}.upstreams[${j}]`, wrong)
    })
    return { name, prefix, hosts, rewritePrefix, upstreams, register, ...settings }
  })
  const hideHeaders = headerNames(input.hideHeaders, 'hideHeaders', DEFAULT_HIDE_HEADERS)
  const stripRequestHeaders = headerNames(
    input.stripRequestHeaders,
    'stripRequestHeaders',
    DEFAULT_STRIP_REQUEST_HEADERS,
  )
  const trust = input.trustProxy
  if (
    trust !== undefined &&
    !['boolean', 'number', 'string', 'function'].includes(typeof trust) &&
    !(Array.isArray(trust) && trust.every((t) => typeof t === 'string'))
  )
    throw invalid('trustProxy', 'must be a boolean, hop count, address/CIDR list or function')
  return {
    routes,
    contextPrefix: context === '/' ? '' : context,
    trustProxy: trust as TrustProxy | undefined,
    hideHeaders,
    stripRequestHeaders,
    xForwarded: bool(input.xForwarded, 'xForwarded', true),
    forwarded: bool(input.forwarded, 'forwarded', true),
  }
}

/** Checks one upstream given to the decorator API at run time. */
export function resolveUpstream(v: unknown, path: string): UpstreamOption {
  return upstream(v, path)
}
