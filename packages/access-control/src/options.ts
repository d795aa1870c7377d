import { type AddressClass, isPlainObject, optionChecks } from '@proxykit/core'
import type { FastifyRequest } from 'fastify'

export type RuleAction = 'allow' | 'deny'
/** Which kind of request a rule applies to: forward (`absolute`), tunnel (`authority`), reverse/plain (`origin`). */
export type RuleForm = 'absolute' | 'authority' | 'origin'
export type RateLimitKey = 'client' | 'user' | 'destination'

/** A rate limit on the requests a rule (or route, or the whole plugin) lets through. */
export interface RateLimitRule {
  /** Requests allowed per window. */
  max: number
  /** The window in ms, or a string @fastify/rate-limit understands (`'1 minute'`). */
  timeWindow: number | string
  /**
   * What one counter counts: the client address (`request.ip`, so Fastify's `trustProxy` decides whether
   * X-Forwarded-For is believed), the authenticated user (the client address when anonymous), the
   * destination (`host:port` for forward requests, the Host header otherwise), or a function. Default `client`.
   */
  key?: RateLimitKey | ((request: FastifyRequest) => string)
}

/**
 * One allow/deny rule. Every condition given must hold (AND); within a condition any entry may match (OR).
 * A rule without conditions matches every request.
 */
export interface AccessRule {
  /** Shown in the 403 body and recorded on `request.proxy.access` (default `#<index>`). */
  name?: string
  action: RuleAction
  /** Client addresses or CIDRs (IPv4-mapped IPv6 is IPv4). */
  clients?: string[]
  /** Authenticated user names; `'*'` is any authenticated user. */
  users?: string[]
  /** Groups of the authenticated user. */
  groups?: string[]
  /** Request methods (`CONNECT` for tunnels). */
  methods?: string[]
  /** Request-target forms: `absolute` (forward HTTP), `authority` (CONNECT), `origin` (reverse/plain). */
  forms?: RuleForm[]
  /** Destination hosts: `example.com`, `*.example.com` (subdomains), `.example.com` (domain and subdomains). */
  hosts?: string[]
  /** Destination ports or ranges (`443`, `'8000-8999'`); forward and CONNECT requests only. */
  ports?: Array<number | string>
  /** Destination addresses or CIDRs, checked on the literal target and again on the address connected to. */
  destinations?: string[]
  /** Destination address classes (core's `ADDRESS_CLASSES`), checked like `destinations`. */
  addressClasses?: AddressClass[]
  /** Path prefixes, matched on segment boundaries against the normalised path (see README). */
  paths?: string[]
  /** A rate limit on the requests this rule allows (allow rules only). */
  rateLimit?: RateLimitRule
}

export interface AuthUser {
  /** An `scrypt$…` hash (see `hashPassword`) or a bcrypt hash (`$2a$`, `$2b$`, `$2y$`). */
  password: string
  groups?: string[]
}

export interface Identity {
  user: string
  groups?: string[]
  /** What the credentials said about the user (a JWT's claims): recorded on `request.proxy.access`. */
  claims?: Record<string, unknown>
}

/** An answer from another service that goes back to the client as it is (a forward-auth refusal). */
export interface DelegateAnswer {
  statusCode: number
  headers: Record<string, string | string[]>
  body: Buffer | string
}

/**
 * What a `delegate` said: the request may pass (as `user`, or anonymously with `user: null`), or the
 * client gets `answer`.
 */
export type DelegateResult =
  | { user: string | null; groups?: string[]; claims?: Record<string, unknown> }
  | { answer: DelegateAnswer }

/** Checks a bearer token that `tokens` does not hold (a JWT); an identity, or null/false to refuse it. */
export type BearerFunction = (
  token: string,
  request: FastifyRequest,
) => Identity | null | false | Promise<Identity | null | false>

/** Checks a user name and password; return true, an identity, or false/null. */
export type VerifyFunction = (
  user: string,
  password: string,
  request: FastifyRequest,
) => boolean | Identity | null | Promise<boolean | Identity | null>

export interface AuthOptions {
  /** The realm in challenges (default `proxykit`). */
  realm?: string
  /** user → password hash, or `{ password, groups }`. */
  users?: Record<string, string | AuthUser>
  /** Path of an htpasswd file (bcrypt or scrypt lines), read once at start. */
  htpasswd?: string
  /** A function that checks credentials; tried after `users` and `htpasswd`. */
  verify?: VerifyFunction
  /** Checks bearer tokens that `tokens` does not hold (JWTs); a token it refuses is a 401. */
  bearer?: BearerFunction
  /**
   * Asks another service about every request, after the credentials (if any) were checked (forward auth):
   * it lets the request through, naming the user or not, or gives the answer the client gets. A thrown
   * error is a 503.
   */
  delegate?: (request: FastifyRequest) => Promise<DelegateResult>
  /** Bearer tokens / API keys: token (or `sha256:<hex>` of it) → user name or identity. */
  tokens?: Record<string, string | Identity>
  /** Header that carries an API key on reverse and plain routes (default `x-api-key`; false to disable). */
  apiKeyHeader?: string | false
  /** group → user names, added to the groups each user already has. */
  groups?: Record<string, string[]>
  /** Challenge every request that brings no credentials, whatever the rules say (default false). */
  required?: boolean
  /** Remove the Authorization header / API key we consumed before the request goes on (default true). */
  stripCredentials?: boolean
  /** How long (ms) a successful password check is remembered, keyed by a hash of the credentials (default 60000; 0 disables). */
  cacheTtl?: number
}

export interface RateLimitOptions {
  /** An ioredis client: counters are shared by every instance using the same Redis (default: memory). */
  redis?: unknown
  /** Key prefix in Redis (default `proxykit-access-`). */
  nameSpace?: string
  /** A limit on every request the rules allow. */
  global?: RateLimitRule
  /** Let requests through when the store fails (default false: answer 500). */
  skipOnError?: boolean
}

export interface AccessControlOptions {
  rules?: AccessRule[]
  /** What happens when no rule matches (default `deny`). */
  defaultAction?: RuleAction
  /** `report` evaluates and logs every decision without enforcing it (default `enforce`). */
  mode?: 'enforce' | 'report'
  /** Name the denying rule in the 403 body (default true). */
  exposeRule?: boolean
  auth?: AuthOptions
  rateLimit?: RateLimitOptions
}

/** Per-route configuration: `{ config: { accessControl: … } }`. `false` skips access control for the route. */
export type RouteAccessControl =
  | false
  | {
      /** Rules checked before the plugin's own; the first match among them decides. */
      rules?: AccessRule[]
      /** Replaces the plugin's default action for this route. */
      defaultAction?: RuleAction
      /** A limit on this route's allowed requests (replaces the global limit); false for none. */
      rateLimit?: RateLimitRule | false
      /** Authentication for this route, in place of the plugin's `auth`. */
      auth?: AuthOptions
      /** Replaces the plugin's `mode` for this route. */
      mode?: 'enforce' | 'report'
    }

declare module 'fastify' {
  interface FastifyContextConfig {
    accessControl?: RouteAccessControl
  }
}

export const DEFAULTS = {
  defaultAction: 'deny' as RuleAction,
  mode: 'enforce' as const,
  exposeRule: true,
  realm: 'proxykit',
  apiKeyHeader: 'x-api-key',
  stripCredentials: true,
  cacheTtl: 60_000,
  nameSpace: 'proxykit-access-',
}

const check = optionChecks('@proxykit/access-control')
/** The `PK_INVALID_OPTION` error for an access-control option (core's `optionChecks`). */
export const invalidOption = check.invalid
export const isObject = isPlainObject

const TOP_KEYS = new Set(['rules', 'defaultAction', 'mode', 'exposeRule', 'auth', 'rateLimit'])
const AUTH_KEYS = new Set([
  'realm',
  'users',
  'htpasswd',
  'verify',
  'bearer',
  'delegate',
  'tokens',
  'apiKeyHeader',
  'groups',
  'required',
  'stripCredentials',
  'cacheTtl',
])
const RATE_KEYS = new Set(['redis', 'nameSpace', 'global', 'skipOnError'])

function onlyKeys(value: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) throw invalidOption(where, `unknown option "${key}"`)
  }
}

export function checkAction(value: unknown, where: string): RuleAction {
  if (value !== 'allow' && value !== 'deny')
    throw invalidOption(where, `must be "allow" or "deny", got ${JSON.stringify(value)}`)
  return value
}

export function checkRateLimit(value: unknown, where: string): RateLimitRule {
  if (!isObject(value)) throw invalidOption(where, 'must be an object { max, timeWindow, key? }')
  onlyKeys(value, new Set(['max', 'timeWindow', 'key']), where)
  if (typeof value.max !== 'number' || !Number.isInteger(value.max) || value.max < 0)
    throw invalidOption(`${where}.max`, 'must be a non-negative integer')
  const tw = value.timeWindow
  if (!((typeof tw === 'number' && tw > 0) || (typeof tw === 'string' && tw.trim() !== '')))
    throw invalidOption(`${where}.timeWindow`, 'must be a positive number of ms or a duration string')
  const key = value.key
  if (
    key !== undefined &&
    key !== 'client' &&
    key !== 'user' &&
    key !== 'destination' &&
    typeof key !== 'function'
  )
    throw invalidOption(`${where}.key`, 'must be "client", "user", "destination" or a function')
  return value as unknown as RateLimitRule
}

/** Checks the top-level shape; rules are checked (and compiled) by `compileRules`. */
export function checkOptions(opts: AccessControlOptions): void {
  if (!isObject(opts)) throw invalidOption('options', 'must be an object')
  onlyKeys(opts, TOP_KEYS, 'options')
  if (opts.rules !== undefined && !Array.isArray(opts.rules)) throw invalidOption('rules', 'must be an array')
  if (opts.defaultAction !== undefined) checkAction(opts.defaultAction, 'defaultAction')
  if (opts.mode !== undefined && opts.mode !== 'enforce' && opts.mode !== 'report')
    throw invalidOption('mode', `must be "enforce" or "report", got ${JSON.stringify(opts.mode)}`)
  if (opts.exposeRule !== undefined && typeof opts.exposeRule !== 'boolean')
    throw invalidOption('exposeRule', 'must be a boolean')
  if (opts.auth !== undefined) {
    const auth = opts.auth as unknown
    if (!isObject(auth)) throw invalidOption('auth', 'must be an object')
    onlyKeys(auth, AUTH_KEYS, 'auth')
    if (auth.realm !== undefined && (typeof auth.realm !== 'string' || /["\\\r\n]/.test(auth.realm)))
      throw invalidOption('auth.realm', 'must be a string without quotes, backslashes or line breaks')
    if (auth.verify !== undefined && typeof auth.verify !== 'function')
      throw invalidOption('auth.verify', 'must be a function')
    if (auth.htpasswd !== undefined && typeof auth.htpasswd !== 'string')
      throw invalidOption('auth.htpasswd', 'must be a file path')
    if (
      auth.apiKeyHeader !== undefined &&
      auth.apiKeyHeader !== false &&
      (typeof auth.apiKeyHeader !== 'string' || !/^[A-Za-z0-9-]+$/.test(auth.apiKeyHeader))
    )
      throw invalidOption('auth.apiKeyHeader', 'must be a header name or false')
    if (auth.cacheTtl !== undefined && (typeof auth.cacheTtl !== 'number' || auth.cacheTtl < 0))
      throw invalidOption('auth.cacheTtl', 'must be a non-negative number of ms')
    for (const key of ['required', 'stripCredentials'] as const) {
      if (auth[key] !== undefined && typeof auth[key] !== 'boolean')
        throw invalidOption(`auth.${key}`, 'must be a boolean')
    }
  }
  if (opts.rateLimit !== undefined) {
    const rl = opts.rateLimit as unknown
    if (!isObject(rl)) throw invalidOption('rateLimit', 'must be an object')
    onlyKeys(rl, RATE_KEYS, 'rateLimit')
    if (rl.global !== undefined) checkRateLimit(rl.global, 'rateLimit.global')
    if (rl.redis !== undefined && (!isObject(rl.redis) || typeof rl.redis.defineCommand !== 'function'))
      throw invalidOption('rateLimit.redis', 'must be an ioredis client')
    if (rl.nameSpace !== undefined && typeof rl.nameSpace !== 'string')
      throw invalidOption('rateLimit.nameSpace', 'must be a string')
  }
}
