import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { checkHashFormat, Policy } from '@proxykit/access-control'
import { helmetSteps } from '../routes/helmet-headers.js'
import { parseDuration, parseSize } from './units.js'

// The resolved form of the `cors`, `helmet`, `compress`, `auth` and `rules` keys (schema-security.ts):
// a route's own value, else the `reverse` default; `false` turns a default off.

export interface CorsConfig {
  origin: boolean | string | string[]
  credentials: boolean
  methods: string[] | null
  allowedHeaders: string[] | null
  exposedHeaders: string[] | null
  maxAge: number | null
  strictPreflight: boolean
}

/** @fastify/helmet options: `{}` for its defaults. */
export type HelmetConfig = Record<string, boolean | Record<string, unknown>>

export interface CompressConfig {
  encodings: Array<'br' | 'gzip' | 'deflate'>
  threshold: number
  /** null: @fastify/compress's own idea of compressible. */
  types: string[] | null
}

export interface JwtConfig {
  secret: string | null
  jwks: string | null
  publicKey: string | null
  algorithms: string[] | null
  issuer: string[] | null
  audience: string[] | null
  clockToleranceMs: number
  userClaim: string
  groupsClaim: string
  claimHeaders: Record<string, string>
}

export interface ForwardAuthConfig {
  url: string
  copyHeaders: string[]
  userHeader: string | null
  groupsHeader: string | null
  timeoutMs: number
}

export interface AuthConfig {
  realm: string
  required: boolean
  /** Inline users and the htpasswd file's, read with the config (so a reload reads the file again). */
  basic: {
    users: Record<string, { password: string; groups: string[] }>
    htpasswd: string | null
    groups: Record<string, string[]>
  } | null
  jwt: JwtConfig | null
  forward: ForwardAuthConfig | null
}

/** An access-control rule as written in the config (paths on a route already made absolute). */
export interface RuleConfig {
  name?: string
  action: 'allow' | 'deny'
  users?: string[]
  groups?: string[]
  methods?: string[]
  clients?: string[]
  paths?: string[]
  hosts?: string[]
  ports?: Array<number | string>
  destinations?: string[]
}

export interface RouteSecurity {
  cors: CorsConfig | null
  helmet: HelmetConfig | null
  compress: CompressConfig | null
  auth: AuthConfig | null
  rules: RuleConfig[]
  /** The route's own; null: the listener's. */
  accessMode: 'enforce' | 'report' | null
}

/** A path of a route's `rules` made absolute, as `deny` paths are (a path already under the prefix stays). */
export function withinPrefix(prefix: string): (p: string) => string {
  const base = prefix === '/' ? '' : prefix.replace(/\/$/, '')
  return (p) => (base !== '' && (p === base || p.startsWith(`${base}/`)) ? p : `${base}${p}`)
}

const pick = (own: any, fallback: any): any => (own === undefined ? fallback : own)
const list = (v: string | string[] | undefined) => (v === undefined ? null : Array.isArray(v) ? v : [v])

/**
 * A route's security keys, resolved against the listener's defaults. `at` is the route's config path,
 * for the problems found here (an htpasswd file that cannot be read, a JWT key missing, a bad rule).
 */
export function resolveRouteSecurity(
  route: any,
  defaults: any,
  at: string,
  absolutePath: (p: string) => string,
  problems: string[],
): RouteSecurity {
  const cors = pick(route.cors, defaults?.cors)
  const helmet = pick(route.helmet, defaults?.helmet)
  const compress = pick(route.compress, defaults?.compress)
  const auth = pick(route.auth, defaults?.auth)
  const rules: RuleConfig[] = (route.rules ?? []).map((r: RuleConfig) =>
    r.paths === undefined ? r : { ...r, paths: r.paths.map(absolutePath) },
  )
  checkRules(rules, `${at}.rules`, problems)
  if (helmet !== undefined && typeof helmet === 'object') {
    // helmet validates its options when its middleware is built, which the route does once at start.
    try {
      helmetSteps(helmet)
    } catch (err) {
      const problem = `${route.helmet === undefined ? 'reverse.helmet' : `${at}.helmet`}: ${(err as Error).message}`
      if (!problems.includes(problem)) problems.push(problem)
    }
  }
  return {
    cors:
      cors === undefined || cors === false
        ? null
        : {
            origin: cors === true ? '*' : (cors.origin ?? '*'),
            credentials: cors === true ? false : (cors.credentials ?? false),
            methods: cors.methods ?? null,
            allowedHeaders: cors.allowedHeaders ?? null,
            exposedHeaders: cors.exposedHeaders ?? null,
            maxAge: cors.maxAge ?? null,
            strictPreflight: cors.strictPreflight ?? true,
          },
    helmet: helmet === undefined || helmet === false ? null : helmet === true ? {} : helmet,
    compress:
      compress === undefined || compress === false
        ? null
        : {
            encodings: (compress === true ? null : compress.encodings) ?? ['br', 'gzip', 'deflate'],
            threshold: parseSize((compress === true ? null : compress.threshold) ?? 1024) ?? 1024,
            types: (compress === true ? null : compress.types) ?? null,
          },
    auth:
      auth === undefined || auth === false
        ? null
        : resolveAuth(auth, route.auth === undefined ? 'reverse.auth' : `${at}.auth`, problems),
    rules,
    accessMode: route.accessMode ?? null,
  }
}

function resolveAuth(a: any, at: string, problems: string[]): AuthConfig | null {
  if (a.basic === undefined && a.jwt === undefined && a.forward === undefined) {
    problems.push(`${at}: needs basic, jwt or forward`)
    return null
  }
  let basic: AuthConfig['basic'] = null
  if (a.basic !== undefined) {
    const users: Record<string, { password: string; groups: string[] }> = {}
    for (const [name, u] of Object.entries<any>(a.basic.users ?? {}))
      users[name] =
        typeof u === 'string' ? { password: u, groups: [] } : { password: u.password, groups: u.groups ?? [] }
    if (a.basic.htpasswd !== undefined)
      readHtpasswd(a.basic.htpasswd, users, `${at}.basic.htpasswd`, problems)
    if (Object.keys(users).length === 0) problems.push(`${at}.basic: needs users or htpasswd`)
    basic = { users, htpasswd: a.basic.htpasswd ?? null, groups: a.basic.groups ?? {} }
  }
  let jwt: JwtConfig | null = null
  if (a.jwt !== undefined) {
    const j = a.jwt
    const sources = ['secret', 'jwks', 'publicKey'].filter((k) => j[k] !== undefined)
    if (sources.length !== 1)
      problems.push(`${at}.jwt: needs exactly one of secret (HS256), jwks (URL) or publicKey (PEM)`)
    const algorithms: string[] | null = j.algorithms ?? null
    if (algorithms !== null && j.secret !== undefined && algorithms.some((x) => !x.startsWith('HS')))
      problems.push(`${at}.jwt.algorithms: a secret verifies HS256/384/512 only`)
    if (algorithms !== null && j.secret === undefined && algorithms.some((x) => x.startsWith('HS')))
      problems.push(`${at}.jwt.algorithms: HS256/384/512 need a secret`)
    if (j.publicKey !== undefined) {
      try {
        createPublicKey(j.publicKey)
      } catch (err) {
        problems.push(`${at}.jwt.publicKey: not a usable public key: ${(err as Error).message}`)
      }
    }
    jwt = {
      secret: j.secret ?? null,
      jwks: j.jwks ?? null,
      publicKey: j.publicKey ?? null,
      algorithms,
      issuer: list(j.issuer),
      audience: list(j.audience),
      clockToleranceMs: parseDuration(j.clockTolerance ?? '0s') ?? 0,
      userClaim: j.userClaim ?? 'sub',
      groupsClaim: j.groupsClaim ?? 'groups',
      claimHeaders: Object.fromEntries(
        Object.entries<string>(j.claimHeaders ?? {}).map(([h, c]) => [h.toLowerCase(), c]),
      ),
    }
  }
  const f = a.forward
  return {
    realm: a.realm ?? 'proxykit',
    required: a.required ?? true,
    basic,
    jwt,
    forward:
      f === undefined
        ? null
        : {
            url: f.url,
            copyHeaders: (f.copyHeaders ?? []).map((h: string) => h.toLowerCase()),
            userHeader: f.userHeader?.toLowerCase() ?? null,
            groupsHeader: f.groupsHeader?.toLowerCase() ?? null,
            timeoutMs: parseDuration(f.timeout ?? '5s') ?? 5000,
          },
  }
}

/** `user:hash` lines into `users`; a bad line is a problem naming the file and line. */
function readHtpasswd(
  file: string,
  users: Record<string, { password: string; groups: string[] }>,
  at: string,
  problems: string[],
): void {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    problems.push(`${at}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`)
    return
  }
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return
    const colon = line.indexOf(':')
    const user = colon === -1 ? '' : line.slice(0, colon)
    const hash = line.slice(colon + 1).trim()
    const bad = colon <= 0 ? 'expected user:hash' : checkHashFormat(hash)
    if (bad !== null) problems.push(`${at}: ${file} line ${i + 1}: ${bad}`)
    else if (users[user] !== undefined)
      problems.push(`${at}: ${file} line ${i + 1}: user "${user}" is defined twice`)
    else users[user] = { password: hash, groups: [] }
  })
}

/** The rules as @proxykit/access-control compiles them: its error, naming the rule, is the problem. */
export function checkRules(rules: RuleConfig[], at: string, problems: string[]): void {
  if (rules.length === 0) return
  try {
    new Policy(rules, null, at)
  } catch (err) {
    problems.push((err as Error).message.replace(/^@proxykit\/access-control: /, ''))
  }
}

/** For `--check`: every password hash and secret of these keys shown as `<set>`. */
export function maskSecurity(security: RouteSecurity): void {
  const a = security.auth
  if (a === null) return
  if (a.basic !== null) for (const u of Object.values(a.basic.users)) u.password = '<set>'
  if (a.jwt?.secret) a.jwt.secret = '<set>'
}
