// The settings a route may give itself or inherit from the plugin-level ones (balancer, health, retries,
// timeouts, hooks, upstream protocol), checked and resolved against what they inherit.
import type { ConnectionOptions } from 'node:tls'
import { isPlainObject, optionChecks } from '@proxykit/core'
import { BALANCERS, type BalancerName } from './balancers/index.js'
import { HOOK_NAMES, type ResolvedHooks } from './hooks.js'
import {
  type HashOn,
  type PassiveHealthOptions,
  type ResolvedHealthCheck,
  type RetryOptions,
  type RouteSettings,
  type Timeouts,
  UPSTREAM_PROTOCOLS,
  type UpstreamProtocol,
} from './option-types.js'

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
export const DEFAULT_BALANCER: BalancerName = 'weighted-round-robin'

const check = optionChecks('@proxykit/reverse-proxy')
const { invalid } = check
const isObject = isPlainObject
const positiveInt = check.integer
const bool = check.boolean

/** A path option: starts with '/', no trailing slash but the root's. */
export function prefixPath(v: unknown, path: string, fallback: string): string {
  if (v === undefined) return fallback
  if (typeof v !== 'string' || !v.startsWith('/') || /[\s?#*:]/.test(v))
    throw invalid(path, "must be a path starting with '/' (no spaces, '?', '#', '*' or ':')")
  return v.length > 1 && v.endsWith('/') ? v.slice(0, -1) : v
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

export function resolveRouteSettings(
  v: Record<string, unknown>,
  path: string,
  base: RouteSettings,
): RouteSettings {
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
