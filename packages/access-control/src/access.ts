import {
  type ConnectGuard,
  ForbiddenError,
  InternalError,
  type ProxyError,
  parseIp,
  routeConfig,
  ServiceUnavailableError,
  sendError,
  TooManyRequestsError,
} from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Authenticator, type AuthResult, isThenable } from './auth.js'
import { decide, type Outcome, type RoutePolicy, requestFacts } from './decide.js'
import {
  type AccessControlOptions,
  checkAction,
  checkRateLimit,
  DEFAULTS,
  invalidOption,
  isObject,
  type RateLimitRule,
  type RouteAccessControl,
} from './options.js'
import { type Limiter, type Limits, StoreOutage } from './rate-limit.js'
import { authenticate, challenge, routeAuthenticator, sendAnswer } from './request-auth.js'
import { Policy, type RequestFacts } from './rules.js'

const FALSE_KEY = {}
const ROUTE_KEYS = new Set(['rules', 'defaultAction', 'rateLimit', 'auth', 'mode'])
type Done = (err?: Error) => void

function record(
  request: FastifyRequest,
  decision: 'allow' | 'deny' | 'report',
  rule: string,
  user: string | null,
  claims?: Record<string, unknown>,
): void {
  request.proxy.access = claims === undefined ? { decision, rule, user } : { decision, rule, user, claims }
}

/**
 * One registration's access control: the global policy, the routes' compiled policies, the rate
 * limiters, and the `onRequest` hook that decides with them.
 */
export class Access {
  private readonly report: boolean
  private readonly exposeRule: boolean
  private readonly global: Policy
  private readonly auth: Authenticator | null
  private readonly globalLimit: RateLimitRule | undefined
  private limits: Limits | null = null
  private readonly limiters = new Map<RateLimitRule, Limiter>()
  // Per-route policies, compiled when the route is added so bad config fails at start.
  private readonly routePolicies = new WeakMap<object, RoutePolicy>()
  private readonly brokenRoutes = new WeakMap<object, ProxyError>()
  private readonly outage = new StoreOutage()

  constructor(opts: AccessControlOptions) {
    this.report = opts.mode === 'report'
    this.exposeRule = opts.exposeRule ?? DEFAULTS.exposeRule
    this.global = new Policy(opts.rules, opts.defaultAction ?? DEFAULTS.defaultAction)
    this.auth = opts.auth === undefined ? null : new Authenticator(opts.auth)
    this.globalLimit = opts.rateLimit?.global
    this.needsAuth(this.global, 'rules')
  }

  /** The limiters of the global rules and limit, once @fastify/rate-limit is registered. */
  useLimits(limits: Limits): void {
    this.limits = limits
    for (const rule of this.global.rules)
      if (rule.rateLimit !== null) this.limiterFor(rule.rateLimit, rule.label)
    if (this.globalLimit !== undefined) this.limiterFor(this.globalLimit, 'global')
  }

  private needsAuth(policy: Policy, where: string, own: Authenticator | null = null): void {
    const i = policy.rules.findIndex((r) => r.users !== null || r.groups !== null)
    if (this.auth === null && own === null && i !== -1)
      throw invalidOption(`${where}[${i}]`, 'users and groups need the auth option (who would they be?)')
  }

  private limiterFor(rule: RateLimitRule, label: string): Limiter {
    const existing = this.limiters.get(rule)
    if (existing !== undefined) return existing
    const created = this.limits!.limiter(rule, label)
    this.limiters.set(rule, created)
    return created
  }

  private compileRoute(config: RouteAccessControl, where: string): RoutePolicy {
    if (config === false)
      return { policy: null, defaultAction: null, rateLimit: false, auth: null, report: null }
    if (!isObject(config)) throw invalidOption(where, 'must be false or { rules, defaultAction, rateLimit }')
    for (const key of Object.keys(config)) {
      if (!ROUTE_KEYS.has(key)) throw invalidOption(where, `unknown option "${key}"`)
    }
    const routeAuth = routeAuthenticator(config, where)
    if (config.mode !== undefined && config.mode !== 'enforce' && config.mode !== 'report')
      throw invalidOption(`${where}.mode`, 'must be "enforce" or "report"')
    const policy = config.rules === undefined ? null : new Policy(config.rules, null, `${where}.rules`)
    if (policy !== null) this.needsAuth(policy, `${where}.rules`, routeAuth)
    for (const rule of policy?.rules ?? []) {
      if (rule.rateLimit !== null) this.limiterFor(rule.rateLimit, `${where}:${rule.label}`)
    }
    const defaultAction =
      config.defaultAction === undefined ? null : checkAction(config.defaultAction, `${where}.defaultAction`)
    let rateLimit: RoutePolicy['rateLimit']
    if (config.rateLimit === false) rateLimit = false
    else if (config.rateLimit !== undefined) {
      rateLimit = checkRateLimit(config.rateLimit, `${where}.rateLimit`)
      this.limiterFor(rateLimit, where)
    }
    const routeReport = config.mode === undefined ? null : config.mode === 'report'
    return { policy, defaultAction, rateLimit, auth: routeAuth, report: routeReport }
  }

  /** The compiled policy of a route's `config.accessControl` (compiled once per config object). */
  routePolicy(config: RouteAccessControl | undefined, where: string): RoutePolicy | null {
    if (config === undefined) return null
    const key = config === false ? FALSE_KEY : config
    const existing = this.routePolicies.get(key)
    if (existing !== undefined) return existing
    const compiled = this.compileRoute(config, where)
    this.routePolicies.set(key, compiled)
    return compiled
  }

  // A route declared before the plugin was never seen by onRoute: its config is compiled on its first
  // request. When that fails the route is refused (500, fail closed) and the reason logged once.
  private lateRoutePolicy(
    request: FastifyRequest,
    config: Exclude<RouteAccessControl, false>,
  ): RoutePolicy | ProxyError {
    const broken = this.brokenRoutes.get(config)
    if (broken !== undefined) return broken
    const { method, url } = request.routeOptions
    try {
      return this.routePolicy(config, `route ${method} ${url} config.accessControl`)!
    } catch (err) {
      request.log.error({ err }, 'access-control: invalid route configuration; the route is refused')
      const refused = new InternalError('invalid access-control configuration for this route')
      this.brokenRoutes.set(config, refused)
      return refused
    }
  }

  private guardFor(route: RoutePolicy | null, facts: RequestFacts, user: string | null): ConnectGuard {
    return (address, _family, request) => {
      const ip = parseIp(address)
      const o = ip === null ? null : decide(this.global, route, { ...facts, address: ip })
      if (o !== null && o.action === 'allow') {
        record(request, 'allow', o.label, user)
        return null
      }
      const label = o?.label ?? 'unparseable address'
      if (this.report) {
        record(request, 'report', label, user)
        request.log.warn({ access: request.proxy.access, address }, 'access-control: would refuse connection')
        return null
      }
      record(request, 'deny', label, user)
      return this.exposeRule ? `address ${address} denied by rule "${label}"` : `address ${address} denied`
    }
  }

  // A callback-style hook: most requests (no credentials, credentials checked at once such as a token the
  // bearer check knew, no limit) are decided synchronously, without the promises and microtasks an async
  // hook costs on every request.
  readonly onRequest = (request: FastifyRequest, reply: FastifyReply, done: Done) => {
    const ctx = request.proxy
    if (ctx == null) return done()
    const config = routeConfig(request)?.accessControl
    let route: RoutePolicy | null = null
    if (config !== undefined) {
      if (config === false) return done()
      const found = this.routePolicies.get(config) ?? this.lateRoutePolicy(request, config)
      if (found instanceof Error) return sendError(reply, found)
      route = found
    }
    const forward = ctx.form === 'absolute' || ctx.form === 'authority'
    const a = route?.auth ?? this.auth
    if (a === null) return this.decideRequest(request, reply, done, route, forward, null, [])
    const result = authenticate(request, forward, a)
    if (!isThenable(result)) return this.authenticated(request, reply, done, route, forward, a, result)
    result.then(
      (result) => this.authenticated(request, reply, done, route, forward, a, result),
      (err) => {
        sendError(reply, new ServiceUnavailableError('authentication service unavailable', { cause: err }))
      },
    )
  }

  /** What the credentials said: an answer of the delegate's, a challenge, or on to the rules. */
  private authenticated(
    request: FastifyRequest,
    reply: FastifyReply,
    done: Done,
    route: RoutePolicy | null,
    forward: boolean,
    a: Authenticator,
    result: AuthResult,
  ) {
    const rep = route?.report ?? this.report
    try {
      if (result.status === 'answer') {
        record(request, rep ? 'report' : 'deny', 'authentication', null)
        if (!rep) return sendAnswer(reply, result.answer)
        request.log.warn({ access: request.proxy.access }, 'access-control: would refuse (delegate)')
      } else if (result.status === 'bad' || (result.status === 'none' && a.required)) {
        const reason = result.status === 'bad' ? result.reason : 'credentials required'
        record(request, rep ? 'report' : 'deny', 'authentication', null)
        if (!rep) return challenge(reply, a, forward, reason)
      }
      if (result.status !== 'ok') return this.decideRequest(request, reply, done, route, forward, null, [])
      this.decideRequest(request, reply, done, route, forward, result.user, result.groups, result.claims)
    } catch (err) {
      done(err as Error)
    }
  }

  private decideRequest(
    request: FastifyRequest,
    reply: FastifyReply,
    done: Done,
    route: RoutePolicy | null,
    forward: boolean,
    user: string | null,
    groups: string[],
    claims?: Record<string, unknown>,
  ) {
    const ctx = request.proxy
    const rep = route?.report ?? this.report
    const global = this.global
    const facts = requestFacts(
      request,
      ctx,
      user,
      groups,
      global.usesClients || route?.policy?.usesClients === true,
      global.usesPaths || route?.policy?.usesPaths === true,
    )
    const o: Outcome = decide(global, route, facts)
    if (o.action === 'challenge') {
      record(request, rep ? 'report' : 'deny', o.label, null)
      if (!rep)
        return challenge(reply, (route?.auth ?? this.auth)!, forward, `rule "${o.label}" needs a user`)
      request.log.warn({ access: ctx.access }, 'access-control: would ask for credentials')
    } else if (o.action === 'deny' && !o.tentative) {
      record(request, rep ? 'report' : 'deny', o.label, user, claims)
      if (!rep)
        return sendError(
          reply,
          new ForbiddenError(this.exposeRule ? `denied by rule "${o.label}"` : 'access denied'),
        )
      request.log.warn({ access: ctx.access }, 'access-control: would deny')
    } else {
      // A tentative allow is only as good as the connect-time check, which records the final word.
      record(request, 'allow', o.tentative ? 'pending address check' : o.label, user, claims)
    }
    if (o.addressDependent && forward) ctx.connectGuards.push(this.guardFor(route, facts, user))

    const limit =
      o.rule?.rateLimit ?? (route?.rateLimit === undefined ? this.globalLimit : route.rateLimit || undefined)
    if (limit === undefined) return done()
    this.applyLimit(request, reply, done, limit, o.label, rep)
  }

  /** The rate limit that applies: on, or 429 (only logged in report mode); 503 while the store fails. */
  private applyLimit(
    request: FastifyRequest,
    reply: FastifyReply,
    done: Done,
    limit: RateLimitRule,
    label: string,
    rep: boolean,
  ) {
    const ctx = request.proxy
    this.limiters.get(limit)!(request).then(
      (result) => {
        this.outage.answered(request.log)
        if (!result.exceeded) return done()
        if (rep) {
          request.log.warn({ access: ctx.access }, 'access-control: would rate-limit')
          return done()
        }
        ctx.access = { ...ctx.access!, decision: 'deny', rule: `${ctx.access?.rule ?? label} (rate limit)` }
        sendError(reply, new TooManyRequestsError(`limit of ${result.max} reached`), {
          'retry-after': String(Math.max(1, result.retryAfter)),
        })
      },
      (err) => {
        this.outage.failed(request.log, err)
        sendError(reply, new ServiceUnavailableError('rate-limit store unavailable', { cause: err }))
      },
    )
  }
}
