import { clientAddress, kOriginalTarget, type ProxyContext, parseIp } from '@proxykit/core'
import type { FastifyRequest } from 'fastify'
import type { Authenticator } from './auth.js'
import type { RateLimitRule, RuleAction } from './options.js'
import { normalizePath } from './path.js'
import type { CompiledRule } from './rule-compile.js'
import type { Policy, RequestFacts } from './rules.js'

/** A route's own policy, compiled from `config.accessControl` at `onRoute`. */
export interface RoutePolicy {
  policy: Policy | null
  defaultAction: RuleAction | null
  /** undefined: use the global limit; false: none. */
  rateLimit: RateLimitRule | false | undefined
  /** The route's own authentication (null: the plugin's). */
  auth: Authenticator | null
  /** The route's own mode: true for report (null: the plugin's). */
  report: boolean | null
}

/** The outcome for a request: what to do now, and whether the connect-time guard must recheck. */
export interface Outcome {
  action: RuleAction | 'challenge'
  /** The rule that decided (null: the default action). */
  rule: CompiledRule | null
  /** `route:<label>`, `<label>` or `default`. */
  label: string
  /** The final action may change once the destination address is known. */
  addressDependent: boolean
  /** Allowed for now only because an address-dependent allow rule may match: the guard decides. */
  tentative: boolean
}

/** Route rules first (their first match decides), then the plugin's rules, then the default action. */
export function decide(global: Policy, route: RoutePolicy | null, facts: RequestFacts): Outcome {
  let pendingAllow = false
  let pendingDeny = false
  if (route?.policy != null) {
    const d = route.policy.evaluate(facts, null)
    pendingAllow = d.pendingAllow
    pendingDeny = d.pendingDeny
    if (d.action !== null) {
      const rule = route.policy.rules[d.rule]!
      return outcome(d.action, rule, `route:${rule.label}`, pendingAllow, pendingDeny)
    }
  }
  const d = global.evaluate(facts, route?.defaultAction ?? global.defaultAction)
  pendingAllow ||= d.pendingAllow
  pendingDeny ||= d.pendingDeny
  const rule = d.rule === -1 ? null : global.rules[d.rule]!
  return outcome(d.action ?? 'deny', rule, rule === null ? 'default' : rule.label, pendingAllow, pendingDeny)
}

function outcome(
  action: RuleAction | 'challenge',
  rule: CompiledRule | null,
  label: string,
  pendingAllow: boolean,
  pendingDeny: boolean,
): Outcome {
  const addressDependent = action === 'allow' ? pendingDeny : pendingAllow
  return { action, rule, label, addressDependent, tentative: action === 'deny' && pendingAllow }
}

/** What the rules look at, read from the request and core's classification. */
export function requestFacts(
  request: FastifyRequest,
  ctx: ProxyContext,
  user: string | null,
  groups: readonly string[],
  needsClient: boolean,
  needsPath: boolean,
): RequestFacts {
  const raw = request.raw as typeof request.raw & { [kOriginalTarget]?: string }
  const target = ctx.target
  const method = raw.method ?? 'GET'
  if (target !== null && (ctx.form === 'absolute' || ctx.form === 'authority')) {
    return {
      form: ctx.form,
      client: needsClient ? clientAddress(request) : null,
      user,
      groups,
      method,
      host: target.hostname,
      port: target.port,
      address: target.family === 0 ? 'unknown' : parseIp(target.hostname),
      path: ctx.form === 'absolute' && needsPath ? normalizePath(target.path) : null,
    }
  }
  return {
    form: 'origin',
    client: needsClient ? clientAddress(request) : null,
    user,
    groups,
    method,
    host: ctx.host,
    port: null,
    address: null,
    path: needsPath ? normalizePath(raw[kOriginalTarget] ?? raw.url ?? '/') : null,
  }
}
