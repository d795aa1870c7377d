import type { AccessControlOptions, AccessRule } from '@proxykit/access-control'
import type { ForwardConfig, ReverseConfig } from '../config/types.js'
import { hasOwnAccess } from '../routes/auth.js'
import { type Destinations, splitDestinations } from './destinations.js'
import { denyPaths } from './reverse.js'

// The config's access rules as @proxykit/access-control options. Rule names are what the access log's
// `rule` field and the denial metric's `rule` label show.

/** Forward listener: deny list, then allow list (default deny when an allow list is set), auth, rate limit. */
export function forwardAccessOptions(f: ForwardConfig): AccessControlOptions {
  const rules: AccessRule[] = []
  const deny = splitDestinations(f.deny)
  if (deny.hosts.length > 0) rules.push({ name: 'forward.deny', action: 'deny', hosts: deny.hosts })
  if (deny.ranges.length > 0) rules.push({ name: 'forward.deny', action: 'deny', destinations: deny.ranges })
  if (deny.classes.length > 0)
    rules.push({ name: 'forward.deny', action: 'deny', addressClasses: deny.classes })
  portRules(rules, 'forward.deny', 'deny', deny.withPorts)
  for (const [i, r] of f.rules.entries()) rules.push({ name: `forward.rules#${i}`, ...r })
  if (f.allow !== null) {
    const allow = splitDestinations(f.allow)
    portRules(rules, 'forward.allow', 'allow', allow.withPorts)
    if (allow.hosts.length > 0) rules.push({ name: 'forward.allow', action: 'allow', hosts: allow.hosts })
    if (allow.ranges.length > 0)
      rules.push({ name: 'forward.allow', action: 'allow', destinations: allow.ranges })
    if (allow.classes.length > 0)
      rules.push({ name: 'forward.allow', action: 'allow', addressClasses: allow.classes })
  }
  return {
    rules,
    ...(f.accessMode === 'report' ? { mode: 'report' as const } : {}),
    defaultAction: f.allow === null ? 'allow' : 'deny',
    ...(f.auth === null ? {} : { auth: { realm: f.auth.realm, users: f.auth.users, required: true } }),
    ...(f.rateLimit === null
      ? {}
      : {
          rateLimit: { global: { max: f.rateLimit.max, timeWindow: f.rateLimit.timeWindowMs, key: 'user' } },
        }),
  }
}

/** `host:port` and `host:low-high` entries: one rule each, on that destination and those ports. */
function portRules(
  rules: AccessRule[],
  name: string,
  action: 'allow' | 'deny',
  entries: Destinations['withPorts'],
): void {
  for (const e of entries) {
    const on =
      e.hosts.length > 0
        ? { hosts: e.hosts }
        : e.ranges.length > 0
          ? { destinations: e.ranges }
          : { addressClasses: e.classes }
    rules.push({ name, action, ports: [e.ports], ...on })
  }
}

/**
 * Reverse listener: each route's deny paths, then its rate limit, then the listener's `rules`; everything
 * else is allowed. A route with its own `auth` or `rules` has these in its route config instead.
 */
export function reverseAccessOptions(
  reverse: Pick<ReverseConfig, 'routes' | 'rules' | 'accessMode'>,
): AccessControlOptions {
  const rules: AccessRule[] = []
  for (const r of reverse.routes) {
    if (hasOwnAccess(r)) continue
    const host = r.hosts.length === 0 ? {} : { hosts: r.hosts }
    if (r.deny.length > 0)
      rules.push({ name: `${r.name}:deny`, action: 'deny', paths: denyPaths(r), ...host })
    if (r.rateLimit !== null) {
      rules.push({
        name: r.name,
        action: 'allow',
        paths: [r.prefix],
        ...host,
        rateLimit: { max: r.rateLimit.max, timeWindow: r.rateLimit.timeWindowMs, key: 'client' },
      })
    }
  }
  for (const [i, r] of reverse.rules.entries()) rules.push({ name: `reverse.rules#${i}`, ...r })
  return { rules, defaultAction: 'allow', ...(reverse.accessMode === 'report' ? { mode: 'report' } : {}) }
}

/** Whether the reverse listener needs access control at all. */
export function reverseNeedsAccess(reverse: Pick<ReverseConfig, 'routes' | 'rules'>): boolean {
  return (
    reverse.rules.length > 0 ||
    reverse.routes.some((r) => r.deny.length > 0 || r.rateLimit !== null || hasOwnAccess(r))
  )
}
