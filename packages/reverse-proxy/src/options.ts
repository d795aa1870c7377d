import { isPlainObject, optionChecks, type TrustProxy } from '@proxykit/core'
import type { ResolvedOptions, ResolvedRoute, RouteSettings, UpstreamOption } from './option-types.js'
import {
  DEFAULT_BALANCER,
  DEFAULT_PASSIVE_HEALTH,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUTS,
  prefixPath,
  protocolMismatch,
  resolveRouteSettings,
} from './route-settings.js'

export * from './option-types.js'
export {
  DEFAULT_BALANCER,
  DEFAULT_HEALTH_CHECK,
  DEFAULT_PASSIVE_HEALTH,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUTS,
  protocolMismatch,
} from './route-settings.js'

export const DEFAULT_HIDE_HEADERS = ['server', 'x-powered-by']
export const DEFAULT_STRIP_REQUEST_HEADERS = ['x-original-url', 'x-rewrite-url']

const check = optionChecks('@proxykit/reverse-proxy')
const { invalid } = check
const isObject = isPlainObject
const positiveInt = check.integer
const bool = check.boolean

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

function headerNames(v: unknown, path: string, fallback: string[]): string[] {
  if (v === undefined) return fallback
  if (!Array.isArray(v) || !v.every((h) => typeof h === 'string' && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(h)))
    throw invalid(path, 'must be an array of header names')
  return v.map((h: string) => h.toLowerCase())
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
  const base = resolveRouteSettings(input, '', {
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
  const routes = input.routes.map((r: unknown, i: number) =>
    resolveRoute(r, `routes[${i}]`, mount, base, names),
  )
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

/** One entry of `routes`: its own fields checked, its settings resolved against the plugin-level ones. */
function resolveRoute(
  r: unknown,
  path: string,
  mount: string,
  base: RouteSettings,
  names: Set<string>,
): ResolvedRoute {
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
  const settings = resolveRouteSettings(r, path, base)
  upstreams.forEach((u, j) => {
    const wrong = protocolMismatch(settings.protocol, u.url)
    if (wrong !== null) throw invalid(`${path}.upstreams[${j}]`, wrong)
  })
  return { name, prefix, hosts, rewritePrefix, upstreams, register, ...settings }
}

/** Checks one upstream given to the decorator API at run time. */
export function resolveUpstream(v: unknown, path: string): UpstreamOption {
  return upstream(v, path)
}
