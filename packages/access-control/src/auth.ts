import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyRequest } from 'fastify'
import {
  type AuthOptions,
  type BearerFunction,
  DEFAULTS,
  type DelegateAnswer,
  type DelegateResult,
  type Identity,
  invalidOption,
  isObject,
} from './options.js'
import { checkHashFormat, hashPassword, verifyPassword } from './passwords.js'

export interface Credentials {
  scheme: 'basic' | 'bearer'
  /** Basic: the user name; bearer: the token. */
  user: string
  password: string
}

/** The result of checking what a request brought. */
export type AuthResult =
  | { status: 'none' }
  | { status: 'ok'; user: string; groups: string[]; claims?: Record<string, unknown> }
  | { status: 'bad'; reason: string }
  /** A delegate let the request through without naming a user. */
  | { status: 'passed' }
  /** A delegate refused the request with this answer. */
  | { status: 'answer'; answer: DelegateAnswer }

/** Parses `Basic base64(user:password)` or `Bearer token`; null when absent or unparseable. */
export function parseAuthorization(value: string | undefined): Credentials | 'malformed' | null {
  if (value === undefined || value === '') return null
  const space = value.indexOf(' ')
  if (space === -1) return 'malformed'
  const scheme = value.slice(0, space).toLowerCase()
  const param = value.slice(space + 1).trim()
  if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]+=*$/.test(param)) return 'malformed'
    const decoded = Buffer.from(param, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon === -1) return 'malformed'
    return { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
  }
  if (scheme === 'bearer') {
    // RFC 6750 §2.1 token68
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(param)) return 'malformed'
    return { scheme: 'bearer', user: param, password: '' }
  }
  return 'malformed'
}

const sha256 = (value: string) => createHash('sha256').update(value).digest()

/** A promise or any other thenable (what `await` would wait for). */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

const invalidToken = (err: unknown): AuthResult => ({
  status: 'bad',
  reason: `invalid token: ${(err as Error).message}`,
})

interface UserEntry {
  hash: string
  groups: string[]
}

const CACHE_LIMIT = 10_000

/**
 * Checks credentials against the configured users, htpasswd file, tokens and verify function. Passwords
 * are hashed (scrypt or bcrypt) and compared in constant time; an unknown user costs a check against a
 * dummy hash too, so timing does not tell which user names exist. Tokens are looked up by their SHA-256,
 * so the lookup itself reveals nothing about a token. Successful password checks are remembered for
 * `cacheTtl` ms under a SHA-256 of the credentials (bcrypt at cost 10 is ~70 ms: too much per request).
 */
export class Authenticator {
  readonly realm: string
  readonly required: boolean
  readonly stripCredentials: boolean
  readonly apiKeyHeader: string | null
  readonly #users = new Map<string, UserEntry>()
  readonly #tokens = new Map<string, Identity>()
  readonly #groupsOf = new Map<string, string[]>()
  readonly #verify: AuthOptions['verify']
  readonly #bearer: BearerFunction | null
  readonly delegate: ((request: FastifyRequest) => Promise<DelegateResult>) | null
  /** False when only a delegate decides: the Authorization header is then not ours to read. */
  readonly readsCredentials: boolean
  readonly #cacheTtl: number
  readonly #cache = new Map<string, { user: string; groups: string[]; expires: number }>()
  #dummy: Promise<string> | null = null

  constructor(options: AuthOptions) {
    this.realm = options.realm ?? DEFAULTS.realm
    this.required = options.required ?? false
    this.stripCredentials = options.stripCredentials ?? DEFAULTS.stripCredentials
    this.#cacheTtl = options.cacheTtl ?? DEFAULTS.cacheTtl
    this.#verify = options.verify
    if (options.bearer !== undefined && typeof options.bearer !== 'function')
      throw invalidOption('auth.bearer', 'must be a function (token, request) => identity | null')
    if (options.delegate !== undefined && typeof options.delegate !== 'function')
      throw invalidOption('auth.delegate', 'must be a function (request) => Promise<result>')
    this.#bearer = options.bearer ?? null
    this.delegate = options.delegate ?? null
    if (options.groups !== undefined) {
      if (!isObject(options.groups)) throw invalidOption('auth.groups', 'must map group → user names')
      for (const [group, members] of Object.entries(options.groups)) {
        if (!Array.isArray(members) || members.some((m) => typeof m !== 'string'))
          throw invalidOption(`auth.groups.${group}`, 'must be an array of user names')
        for (const m of members) this.#groupsOf.set(m, [...(this.#groupsOf.get(m) ?? []), group])
      }
    }
    if (options.users !== undefined) {
      if (!isObject(options.users)) throw invalidOption('auth.users', 'must map user → password hash')
      for (const [user, entry] of Object.entries(options.users)) {
        const where = `auth.users.${user}`
        const hash = typeof entry === 'string' ? entry : isObject(entry) ? entry.password : undefined
        if (typeof hash !== 'string') throw invalidOption(where, 'must be a hash or { password, groups }')
        const bad = checkHashFormat(hash)
        if (bad !== null) throw invalidOption(where, bad)
        const groups = typeof entry === 'string' ? [] : (entry.groups ?? [])
        if (!Array.isArray(groups)) throw invalidOption(`${where}.groups`, 'must be an array')
        this.#addUser(user, hash, groups, where)
      }
    }
    if (options.htpasswd !== undefined) this.#loadHtpasswd(options.htpasswd)
    if (options.tokens !== undefined) {
      if (!isObject(options.tokens)) throw invalidOption('auth.tokens', 'must map token → user')
      for (const [token, who] of Object.entries(options.tokens)) {
        const where = `auth.tokens["${token.slice(0, 4)}…"]`
        const identity = typeof who === 'string' ? { user: who } : who
        if (!isObject(identity) || typeof identity.user !== 'string')
          throw invalidOption(where, 'must be a user name or { user, groups }')
        const hashed = /^sha256:([0-9a-f]{64})$/i.exec(token)
        if (hashed === null && token.length < 16)
          throw invalidOption(where, 'a token must be at least 16 characters (or sha256:<hex>)')
        const key = hashed !== null ? hashed[1]!.toLowerCase() : sha256(token).toString('hex')
        this.#tokens.set(key, identity)
      }
    }
    const apiKey = options.apiKeyHeader ?? DEFAULTS.apiKeyHeader
    this.apiKeyHeader = apiKey === false || this.#tokens.size === 0 ? null : apiKey.toLowerCase()
    this.readsCredentials =
      this.#users.size > 0 || this.#tokens.size > 0 || this.#verify !== undefined || this.#bearer !== null
    if (!this.readsCredentials && this.delegate === null)
      throw invalidOption('auth', 'needs users, htpasswd, tokens, verify, bearer or delegate')
  }

  #addUser(user: string, hash: string, groups: string[], where: string): void {
    if (user === '' || user.includes(':'))
      throw invalidOption(where, 'a user name cannot be empty or contain ":"')
    if (this.#users.has(user)) throw invalidOption(where, `user "${user}" is defined twice`)
    this.#users.set(user, { hash, groups })
  }

  #loadHtpasswd(path: string): void {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      throw invalidOption('auth.htpasswd', `cannot read ${path}: ${(err as Error).message}`)
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const where = `auth.htpasswd (${path} line ${i + 1})`
      if (line.trim() === '' || line.startsWith('#')) return
      const colon = line.indexOf(':')
      if (colon === -1) throw invalidOption(where, 'expected user:hash')
      const hash = line.slice(colon + 1).trim()
      const bad = checkHashFormat(hash)
      if (bad !== null) throw invalidOption(where, bad)
      this.#addUser(line.slice(0, colon), hash, [], where)
    })
  }

  #groups(user: string, own: readonly string[] = []): string[] {
    const extra = this.#groupsOf.get(user)
    return extra === undefined ? [...own] : [...new Set([...own, ...extra])]
  }

  /** The challenge value(s) for WWW-Authenticate / Proxy-Authenticate. */
  challenge(): string[] {
    const bearer = this.#tokens.size !== 0 || this.#bearer !== null
    // Basic only where a password could pass: a browser answers a Basic challenge with a login dialog.
    const basic = this.#users.size !== 0 || this.#verify !== undefined || !bearer
    const out = basic ? [`Basic realm="${this.realm}", charset="UTF-8"`] : []
    if (bearer) out.push(`Bearer realm="${this.realm}"`)
    return out
  }

  /**
   * What the request's credentials are worth: synchronously when nothing had to be waited for (none, a
   * static token, a bearer function that answered at once, as the gateway's does for a token it verified
   * before), so that access control decides the request without a promise; else a promise.
   */
  check(
    credentials: Credentials | 'malformed' | null,
    request: FastifyRequest,
  ): AuthResult | Promise<AuthResult> {
    if (credentials === null) return { status: 'none' }
    if (credentials === 'malformed') return { status: 'bad', reason: 'malformed credentials' }
    if (credentials.scheme === 'bearer') {
      const known = this.checkToken(credentials.user)
      if (known.status === 'ok' || this.#bearer === null) return known
      return this.#checkBearer(credentials.user, request)
    }
    return this.#checkPassword(credentials.user, credentials.password, request)
  }

  checkToken(token: string): AuthResult {
    // No static tokens (a JWT route): nothing to hash the token for.
    const identity = this.#tokens.size === 0 ? undefined : this.#tokens.get(sha256(token).toString('hex'))
    if (identity === undefined) return { status: 'bad', reason: 'unknown token' }
    return { status: 'ok', user: identity.user, groups: this.#groups(identity.user, identity.groups) }
  }

  #checkBearer(token: string, request: FastifyRequest): AuthResult | Promise<AuthResult> {
    let said: ReturnType<BearerFunction>
    try {
      said = this.#bearer!(token, request)
    } catch (err) {
      return invalidToken(err)
    }
    if (isThenable(said))
      return Promise.resolve(said).then((identity) => this.#bearerResult(identity), invalidToken)
    return this.#bearerResult(said)
  }

  #bearerResult(identity: Identity | null | false): AuthResult {
    if (identity === null || identity === false || typeof identity.user !== 'string')
      return { status: 'bad', reason: 'invalid token' }
    return {
      status: 'ok',
      user: identity.user,
      groups: this.#groups(identity.user, identity.groups),
      ...(identity.claims === undefined ? {} : { claims: identity.claims }),
    }
  }

  async #checkPassword(user: string, password: string, request: FastifyRequest): Promise<AuthResult> {
    const cacheKey = this.#cacheTtl > 0 ? sha256(`${user}\u0000${password}`).toString('base64') : ''
    if (cacheKey !== '') {
      const hit = this.#cache.get(cacheKey)
      if (hit !== undefined && hit.expires > Date.now())
        return { status: 'ok', user: hit.user, groups: hit.groups }
    }
    const result = await this.#verifyPassword(user, password, request)
    if (result.status === 'ok' && cacheKey !== '') {
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.delete(this.#cache.keys().next().value!)
      this.#cache.set(cacheKey, {
        user: result.user,
        groups: result.groups,
        expires: Date.now() + this.#cacheTtl,
      })
    }
    return result
  }

  async #verifyPassword(user: string, password: string, request: FastifyRequest): Promise<AuthResult> {
    const entry = this.#users.get(user)
    if (entry !== undefined) {
      if (await verifyPassword(password, entry.hash))
        return { status: 'ok', user, groups: this.#groups(user, entry.groups) }
      return { status: 'bad', reason: 'wrong user or password' }
    }
    if (this.#verify !== undefined) {
      const answer = await this.#verify(user, password, request)
      if (answer === true) return { status: 'ok', user, groups: this.#groups(user) }
      if (isObject(answer) && typeof answer.user === 'string')
        return {
          status: 'ok',
          user: answer.user,
          groups: this.#groups(answer.user, (answer as Identity).groups),
        }
      return { status: 'bad', reason: 'wrong user or password' }
    }
    // Unknown user: spend the time a real check would, so response times do not reveal user names.
    this.#dummy ??= hashPassword('dummy')
    await verifyPassword(password, await this.#dummy)
    return { status: 'bad', reason: 'wrong user or password' }
  }
}
