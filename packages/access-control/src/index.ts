import {
  type ConnectGuard,
  ForbiddenError,
  InternalError,
  installProxyContext,
  ProxyAuthRequiredError,
  type ProxyError,
  parseIp,
  phaseHook,
  routeConfig,
  ServiceUnavailableError,
  sendError,
  TooManyRequestsError,
  UnauthorizedError,
} from '@proxykit/core'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Authenticator, type AuthResult, parseAuthorization } from './auth.js'
import { decide, type Outcome, type RoutePolicy, requestFacts } from './decide.js'
import {
  type AccessControlOptions,
  checkAction,
  checkOptions,
  checkRateLimit,
  DEFAULTS,
  type DelegateAnswer,
  invalidOption,
  isObject,
  type RateLimitRule,
  type RouteAccessControl,
} from './options.js'
import { type Limiter, Limits } from './rate-limit.js'
import { Policy, type RequestFacts } from './rules.js'
import { removeCredentials } from './strip.js'

export type { CidrTrie } from './cidr-trie.js'
export { HostIndex, parseHostPattern } from './host-index.js'
export * from './options.js'
export { checkHashFormat, hashPassword, verifyPassword } from './passwords.js'
export { normalizePath, PathPrefixes } from './path.js'
export { Policy, type RequestFacts } from './rules.js'

const plugin: FastifyPluginAsync<AccessControlOptions> = async (fastify, opts) => {
  installProxyContext(fastify)
  checkOptions(opts)
  const report = opts.mode === 'report'
  const exposeRule = opts.exposeRule ?? DEFAULTS.exposeRule
  const global = new Policy(opts.rules, opts.defaultAction ?? DEFAULTS.defaultAction)
  const auth = opts.auth === undefined ? null : new Authenticator(opts.auth)
  const needsAuth = (policy: Policy, where: string, own: Authenticator | null = null) => {
    const i = policy.rules.findIndex((r) => r.users !== null || r.groups !== null)
    if (auth === null && own === null && i !== -1)
      throw invalidOption(`${where}[${i}]`, 'users and groups need the auth option (who would they be?)')
  }
  needsAuth(global, 'rules')

  const limits = new Limits()
  await limits.register(fastify, opts.rateLimit ?? {})
  const limiters = new Map<RateLimitRule, Limiter>()
  const limiterFor = (rule: RateLimitRule, label: string) => {
    const existing = limiters.get(rule)
    if (existing !== undefined) return existing
    const created = limits.limiter(rule, label)
    limiters.set(rule, created)
    return created
  }
  for (const rule of global.rules) if (rule.rateLimit !== null) limiterFor(rule.rateLimit, rule.label)
  const globalLimit = opts.rateLimit?.global
  if (globalLimit !== undefined) limiterFor(globalLimit, 'global')

  // Per-route policies, compiled when the route is added so bad config fails at start.
  const routePolicies = new WeakMap<object, RoutePolicy>()
  const compileRoute = (config: RouteAccessControl, where: string): RoutePolicy => {
    if (config === false)
      return { policy: null, defaultAction: null, rateLimit: false, auth: null, report: null }
    if (!isObject(config)) throw invalidOption(where, 'must be false or { rules, defaultAction, rateLimit }')
    for (const key of Object.keys(config)) {
      if (!ROUTE_KEYS.has(key)) throw invalidOption(where, `unknown option "${key}"`)
    }
    let routeAuth: Authenticator | null = null
    if (config.auth !== undefined) {
      try {
        routeAuth = new Authenticator(config.auth)
      } catch (err) {
        const e = err as Error & { option?: string }
        const own = `@proxykit/access-control: ${e.option}: `
        const rule = e.message.startsWith(own) ? e.message.slice(own.length) : e.message
        throw invalidOption(`${where}.${e.option ?? 'auth'}`, rule)
      }
    }
    if (config.mode !== undefined && config.mode !== 'enforce' && config.mode !== 'report')
      throw invalidOption(`${where}.mode`, 'must be "enforce" or "report"')
    const policy = config.rules === undefined ? null : new Policy(config.rules, null, `${where}.rules`)
    if (policy !== null) needsAuth(policy, `${where}.rules`, routeAuth)
    for (const rule of policy?.rules ?? []) {
      if (rule.rateLimit !== null) limiterFor(rule.rateLimit, `${where}:${rule.label}`)
    }
    const defaultAction =
      config.defaultAction === undefined ? null : checkAction(config.defaultAction, `${where}.defaultAction`)
    let rateLimit: RoutePolicy['rateLimit']
    if (config.rateLimit === false) rateLimit = false
    else if (config.rateLimit !== undefined) {
      rateLimit = checkRateLimit(config.rateLimit, `${where}.rateLimit`)
      limiterFor(rateLimit, where)
    }
    const routeReport = config.mode === undefined ? null : config.mode === 'report'
    return { policy, defaultAction, rateLimit, auth: routeAuth, report: routeReport }
  }
  const routePolicy = (config: RouteAccessControl | undefined, where: string): RoutePolicy | null => {
    if (config === undefined) return null
    const key = config === false ? FALSE_KEY : config
    const existing = routePolicies.get(key)
    if (existing !== undefined) return existing
    const compiled = compileRoute(config, where)
    routePolicies.set(key, compiled)
    return compiled
  }
  fastify.addHook('onRoute', (route) => {
    routePolicy(route.config?.accessControl, `route ${route.method} ${route.url} config.accessControl`)
  })
  // A route declared before the plugin was never seen by onRoute: its config is compiled on its first
  // request. When that fails the route is refused (500, fail closed) and the reason logged once.
  const brokenRoutes = new WeakMap<object, ProxyError>()
  function lateRoutePolicy(
    request: FastifyRequest,
    config: Exclude<RouteAccessControl, false>,
  ): RoutePolicy | ProxyError {
    const broken = brokenRoutes.get(config)
    if (broken !== undefined) return broken
    const { method, url } = request.routeOptions
    try {
      return routePolicy(config, `route ${method} ${url} config.accessControl`)!
    } catch (err) {
      request.log.error({ err }, 'access-control: invalid route configuration; the route is refused')
      const refused = new InternalError('invalid access-control configuration for this route')
      brokenRoutes.set(config, refused)
      return refused
    }
  }

  function record(
    request: FastifyRequest,
    decision: 'allow' | 'deny' | 'report',
    rule: string,
    user: string | null,
    claims?: Record<string, unknown>,
  ) {
    request.proxy.access = claims === undefined ? { decision, rule, user } : { decision, rule, user, claims }
  }

  function challenge(reply: FastifyReply, a: Authenticator, forward: boolean, reason: string): void {
    const value = a.challenge().join(', ')
    if (forward) sendError(reply, new ProxyAuthRequiredError(reason), { 'proxy-authenticate': value })
    else sendError(reply, new UnauthorizedError(reason), { 'www-authenticate': value })
  }

  function guardFor(route: RoutePolicy | null, facts: RequestFacts, user: string | null): ConnectGuard {
    return (address, _family, request) => {
      const ip = parseIp(address)
      const o = ip === null ? null : decide(global, route, { ...facts, address: ip })
      if (o !== null && o.action === 'allow') {
        record(request, 'allow', o.label, user)
        return null
      }
      const label = o?.label ?? 'unparseable address'
      if (report) {
        record(request, 'report', label, user)
        request.log.warn({ access: request.proxy.access, address }, 'access-control: would refuse connection')
        return null
      }
      record(request, 'deny', label, user)
      return exposeRule ? `address ${address} denied by rule "${label}"` : `address ${address} denied`
    }
  }

  // A callback-style hook: most requests (no credentials to check, no limit) are decided synchronously,
  // without the promise and microtask an async hook costs on every request.
  function onRequest(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) {
    const ctx = request.proxy
    if (ctx == null) return done()
    const config = routeConfig(request)?.accessControl
    let route: RoutePolicy | null = null
    if (config !== undefined) {
      if (config === false) return done()
      const found = routePolicies.get(config) ?? lateRoutePolicy(request, config)
      if (found instanceof Error) return sendError(reply, found)
      route = found
    }
    const forward = ctx.form === 'absolute' || ctx.form === 'authority'
    const a = route?.auth ?? auth
    if (a === null) return decideRequest(request, reply, done, route, forward, null, [])
    const rep = route?.report ?? report
    authenticate(request, forward, a).then(
      (result) => {
        try {
          if (result.status === 'answer') {
            record(request, rep ? 'report' : 'deny', 'authentication', null)
            if (!rep) return sendAnswer(reply, result.answer)
            request.log.warn({ access: ctx.access }, 'access-control: would refuse (delegate)')
          } else if (result.status === 'bad' || (result.status === 'none' && a.required)) {
            const reason = result.status === 'bad' ? result.reason : 'credentials required'
            record(request, rep ? 'report' : 'deny', 'authentication', null)
            if (!rep) return challenge(reply, a, forward, reason)
          }
          if (result.status !== 'ok') return decideRequest(request, reply, done, route, forward, null, [])
          decideRequest(request, reply, done, route, forward, result.user, result.groups, result.claims)
        } catch (err) {
          done(err as Error)
        }
      },
      (err) => {
        sendError(reply, new ServiceUnavailableError('authentication service unavailable', { cause: err }))
      },
    )
  }

  function sendAnswer(reply: FastifyReply, answer: DelegateAnswer): void {
    reply.code(answer.statusCode)
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value)
    reply.send(answer.body)
  }

  function decideRequest(
    request: FastifyRequest,
    reply: FastifyReply,
    done: (err?: Error) => void,
    route: RoutePolicy | null,
    forward: boolean,
    user: string | null,
    groups: string[],
    claims?: Record<string, unknown>,
  ) {
    const ctx = request.proxy
    const rep = route?.report ?? report
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
      if (!rep) return challenge(reply, (route?.auth ?? auth)!, forward, `rule "${o.label}" needs a user`)
      request.log.warn({ access: ctx.access }, 'access-control: would ask for credentials')
    } else if (o.action === 'deny' && !o.tentative) {
      record(request, rep ? 'report' : 'deny', o.label, user, claims)
      if (!rep)
        return sendError(
          reply,
          new ForbiddenError(exposeRule ? `denied by rule "${o.label}"` : 'access denied'),
        )
      request.log.warn({ access: ctx.access }, 'access-control: would deny')
    } else {
      // A tentative allow is only as good as the connect-time check, which records the final word.
      record(request, 'allow', o.tentative ? 'pending address check' : o.label, user, claims)
    }
    if (o.addressDependent && forward) ctx.connectGuards.push(guardFor(route, facts, user))

    const limit =
      o.rule?.rateLimit ?? (route?.rateLimit === undefined ? globalLimit : route.rateLimit || undefined)
    if (limit === undefined) return done()
    limiters.get(limit)!(request).then(
      (result) => {
        if (outage !== null) storeBack(request)
        if (!result.exceeded) return done()
        if (rep) {
          request.log.warn({ access: ctx.access }, 'access-control: would rate-limit')
          return done()
        }
        ctx.access = { ...ctx.access!, decision: 'deny', rule: `${ctx.access?.rule ?? o.label} (rate limit)` }
        sendError(reply, new TooManyRequestsError(`limit of ${result.max} reached`), {
          'retry-after': String(Math.max(1, result.retryAfter)),
        })
      },
      (err) => {
        storeFailed(request, err)
        sendError(reply, new ServiceUnavailableError('rate-limit store unavailable', { cause: err }))
      },
    )
  }

  // A store outage is logged once when it starts and once when it ends, with the number of requests
  // refused meanwhile: a line (and a stack) per refused request flooded the log during a Redis outage.
  let outage: { since: number; refused: number } | null = null
  function storeFailed(request: FastifyRequest, err: unknown): void {
    if (outage === null) {
      outage = { since: Date.now(), refused: 0 }
      request.log.error(
        { err },
        'access-control: rate-limit store failed; requests under a rate limit are refused until it answers',
      )
    }
    outage.refused++
  }
  function storeBack(request: FastifyRequest): void {
    const o = outage!
    outage = null
    request.log.warn(
      { refused: o.refused, outageMs: Date.now() - o.since },
      'access-control: rate-limit store answers again',
    )
  }

  async function authenticate(
    request: FastifyRequest,
    forward: boolean,
    a: Authenticator,
  ): Promise<AuthResult> {
    if (!a.readsCredentials) {
      if (forward) removeCredentials(request.raw, 'proxy-authorization')
      return delegated(request, a, { status: 'none' })
    }
    const header = forward ? request.headers['proxy-authorization'] : request.headers.authorization
    let credentials = parseAuthorization(typeof header === 'string' ? header : undefined)
    let apiKey = false
    if (credentials === null && !forward && a.apiKeyHeader !== null) {
      const key = request.headers[a.apiKeyHeader]
      if (typeof key === 'string' && key !== '') {
        apiKey = true
        credentials = { scheme: 'bearer', user: key, password: '' }
      }
    }
    const result = await a.check(credentials, request)
    // The proxy's own credentials never go on: Proxy-Authorization always (it is hop-by-hop anyway),
    // Authorization and the API key when consumed here.
    if (forward) removeCredentials(request.raw, 'proxy-authorization')
    else if (a.stripCredentials && credentials !== null)
      removeCredentials(request.raw, apiKey ? a.apiKeyHeader! : 'authorization')
    return delegated(request, a, result)
  }

  async function delegated(
    request: FastifyRequest,
    a: Authenticator,
    result: AuthResult,
  ): Promise<AuthResult> {
    if (a.delegate === null || result.status === 'bad') return result
    const said = await a.delegate(request)
    if ('answer' in said) return { status: 'answer', answer: said.answer }
    // The credentials' own user (Basic, JWT) wins over the one the delegate names.
    if (result.status === 'ok' || said.user === null)
      return result.status === 'ok' ? result : { status: 'passed' }
    return {
      status: 'ok',
      user: said.user,
      groups: said.groups ?? [],
      ...(said.claims === undefined ? {} : { claims: said.claims }),
    }
  }

  fastify.addHook(phaseHook('access', 'access-control'), onRequest)
}

const FALSE_KEY = {}
const ROUTE_KEYS = new Set(['rules', 'defaultAction', 'rateLimit', 'auth', 'mode'])

export const accessControl = fp(plugin, { name: '@proxykit/access-control', fastify: '5.x' })
export default accessControl
