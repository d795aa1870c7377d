import { createPublicKey, type KeyObject } from 'node:crypto'
import type { OutgoingHttpHeaders } from 'node:http'
import type {
  AuthOptions,
  DelegateResult,
  Identity,
  RateLimitRule,
  RouteAccessControl,
} from '@proxykit/access-control'
import type { FastifyRequest } from 'fastify'
import type { JWTPayload, JWTVerifyGetKey } from 'jose'
import type { Agent } from 'undici'
import type { AuthConfig, ForwardAuthConfig, JwtConfig } from '../config/security.js'
import type { RouteConfig } from '../config/types.js'
import { VerifiedTokens } from './verified-tokens.js'

// A route's `auth` (Basic, JWT, forward auth) and `rules` as @proxykit/access-control's per-route config,
// so that its rules, report-only mode and the access log see the user. JWT and forward auth are the
// plugin's `bearer` and `delegate` checks, written here with `jose` and undici.

/**
 * Headers this gateway sets on the request sent upstream for a request (claims, forward-auth answers),
 * in order, under a symbol on the request: a JWT route's verified token hands in its own list, shared by
 * every request with that token and never changed (an addition copies it), so a repeated token costs no
 * allocation here.
 */
const kUpstreamHeaders = Symbol('proxykit.gateway.upstreamHeaders')
type Pairs = ReadonlyArray<readonly [string, string]>
type WithUpstreamHeaders = FastifyRequest & { [kUpstreamHeaders]?: Pairs }

function addUpstreamHeaders(request: FastifyRequest, pairs: Pairs): void {
  const r = request as WithUpstreamHeaders
  const own = r[kUpstreamHeaders]
  r[kUpstreamHeaders] = own === undefined ? pairs : [...own, ...pairs]
}

/** Resources a route's auth holds (the forward-auth connection pool), closed with the listener. */
export interface AuthResources {
  close(): Promise<void>
}

const HS = ['HS256', 'HS384', 'HS512']
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
// Verified tokens kept until they expire, at most a minute; bounded (verified-tokens.ts).
const VERIFIED_LIMIT = 10_000
const VERIFIED_MAX_MS = 60_000

function claimText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  if (Array.isArray(value)) return value.map(String).join(',')
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/** A verified token: the identity, and the claim headers it puts on requests sent upstream. */
interface Verified {
  identity: Identity
  headers: Pairs
}

/**
 * The `bearer` check of a route's `jwt`: a verified token's user, groups and claims, or null. A token
 * verified before (VerifiedTokens) is answered synchronously, so access control decides the request
 * without a promise; jose verifies every other.
 */
function jwtBearer(jwt: JwtConfig): NonNullable<AuthOptions['bearer']> {
  // jose is loaded (from the start, without waiting) only by a gateway with a `jwt` route.
  const jose = import('jose')
  jose.catch(() => {})
  const key: Uint8Array | Promise<JWTVerifyGetKey> | KeyObject =
    jwt.secret !== null
      ? new TextEncoder().encode(jwt.secret)
      : jwt.jwks !== null
        ? jose.then((j) =>
            j.createRemoteJWKSet(new URL(jwt.jwks!), { cooldownDuration: 30_000, timeoutDuration: 5_000 }),
          )
        : createPublicKey(jwt.publicKey!)
  const algorithms = jwt.algorithms ?? (jwt.secret !== null ? HS : ASYMMETRIC)
  const verified = new VerifiedTokens<Verified>(VERIFIED_LIMIT, VERIFIED_MAX_MS)
  const claimHeaders = Object.entries(jwt.claimHeaders)
  const options = {
    algorithms,
    ...(jwt.issuer === null ? {} : { issuer: jwt.issuer }),
    ...(jwt.audience === null ? {} : { audience: jwt.audience }),
    clockTolerance: Math.round(jwt.clockToleranceMs / 1000),
  }
  const verifiedOf = (payload: JWTPayload): Verified | null => {
    const user = payload[jwt.userClaim]
    if (typeof user !== 'string' || user === '') return null
    const g = payload[jwt.groupsClaim]
    const groups = Array.isArray(g)
      ? g.map(String)
      : typeof g === 'string'
        ? g.split(' ').filter(Boolean)
        : []
    const headers: Array<[string, string]> = []
    for (const [header, claim] of claimHeaders) {
      const value = claimText(payload[claim])
      if (value !== undefined) headers.push([header, value])
    }
    return { identity: { user, groups, claims: payload as Record<string, unknown> }, headers }
  }
  const use = (found: Verified, request: FastifyRequest): Identity => {
    if (found.headers.length > 0) addUpstreamHeaders(request, found.headers)
    return found.identity
  }
  const verify = async (token: string, request: FastifyRequest): Promise<Identity | null> => {
    const { jwtVerify } = await jose
    const { payload } =
      key instanceof Promise
        ? await jwtVerify(token, await key, options)
        : await jwtVerify(token, key, options)
    const found = verifiedOf(payload)
    if (found === null) return null
    // Kept until the token's own exp at the latest (not exp plus the clock tolerance jose allows: past
    // exp, jose decides again).
    const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY
    verified.set(token, found, exp, Date.now())
    return use(found, request)
  }
  return (token, request) => {
    const found = verified.get(token, Date.now())
    return found === undefined ? verify(token, request) : use(found, request)
  }
}

// Not sent to the auth service: they frame the client's body, which the service does not get, or are
// about the connection to us.
const NOT_FORWARDED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'proxy-authorization',
  'expect',
])
// Not passed back from a refusal: hop-by-hop, and the length of a body we send again ourselves.
const NOT_RETURNED = new Set([...NOT_FORWARDED, 'content-encoding'])
const MAX_ANSWER_BYTES = 64 * 1024

/** The `delegate` of a route's `forward` auth: asks the service, as Traefik's ForwardAuth does. */
function forwardDelegate(
  f: ForwardAuthConfig,
  undici: Promise<typeof import('undici')>,
  agent: Promise<Agent>,
): NonNullable<AuthOptions['delegate']> {
  return async (request) => {
    const { request: send } = await undici
    const headers: Record<string, string | string[]> = {}
    const own = request.raw.headers
    for (const name in own) if (!NOT_FORWARDED.has(name)) headers[name] = own[name]!
    headers['x-forwarded-method'] = request.raw.method ?? 'GET'
    headers['x-forwarded-proto'] = request.protocol
    headers['x-forwarded-host'] = request.host
    headers['x-forwarded-uri'] = request.raw.url ?? '/'
    headers['x-forwarded-for'] = request.ip
    delete headers.host
    const res = await send(f.url, {
      method: 'GET',
      headers,
      dispatcher: await agent,
      headersTimeout: f.timeoutMs,
      bodyTimeout: f.timeoutMs,
    })
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of res.body) {
      size += chunk.length
      if (size > MAX_ANSWER_BYTES) {
        res.body.destroy()
        throw new Error(`the auth service's answer is over ${MAX_ANSWER_BYTES} bytes`)
      }
      chunks.push(chunk)
    }
    const text = (name: string | null) => {
      if (name === null) return undefined
      const v = res.headers[name]
      return Array.isArray(v) ? v.join(', ') : v
    }
    if (res.statusCode < 200 || res.statusCode > 299) {
      const back: Record<string, string | string[]> = {}
      for (const [name, value] of Object.entries(res.headers))
        if (value !== undefined && !NOT_RETURNED.has(name)) back[name] = value
      return { answer: { statusCode: res.statusCode, headers: back, body: Buffer.concat(chunks) } }
    }
    for (const name of f.copyHeaders) {
      const value = text(name)
      if (value !== undefined) addUpstreamHeaders(request, [[name, value]])
    }
    const user = text(f.userHeader)
    const groups = text(f.groupsHeader)
    const said: DelegateResult = {
      user: user === undefined || user === '' ? null : user,
      groups:
        groups === undefined
          ? []
          : groups
              .split(',')
              .map((g) => g.trim())
              .filter(Boolean),
    }
    return said
  }
}

/** The access-control options of a route's `auth`, and what they hold open. */
function authOptions(a: AuthConfig, resources: AuthResources[]): AuthOptions {
  const options: AuthOptions = { realm: a.realm, required: a.required, stripCredentials: false }
  if (a.basic !== null) {
    options.users = a.basic.users
    options.groups = a.basic.groups
  }
  if (a.jwt !== null) options.bearer = jwtBearer(a.jwt)
  if (a.forward !== null) {
    // undici is loaded (from the start, without waiting) only by a gateway with `forward` auth.
    const undici = import('undici')
    const agent = undici.then((u) => new u.Agent({ keepAliveTimeout: 10_000 }))
    agent.catch(() => {})
    resources.push({ close: async () => (await agent).close() })
    options.delegate = forwardDelegate(a.forward, undici, agent)
  }
  return options
}

/** The rate-limit key of a route's `rateLimit.key`: the user, a claim, or (default) the client address. */
function rateLimitKey(key: string | undefined): RateLimitRule['key'] {
  if (key === undefined || key === 'client') return 'client'
  if (key === 'user') return 'user'
  const claim = key.slice('claim:'.length)
  return (request) => claimText(request.proxy.access?.claims?.[claim]) ?? request.ip
}

/** Whether a route's access is decided by its own access-control config rather than listener-wide rules. */
export function hasOwnAccess(route: RouteConfig): boolean {
  return (
    route.auth !== null ||
    route.rules.length > 0 ||
    route.rateLimit?.key !== undefined ||
    route.accessMode !== null
  )
}

/**
 * A route's `config.accessControl`: its deny paths first, then its `rules`, then the listener's; its
 * rate limit; its authentication. Undefined for a route left to the listener-wide rules.
 */
export function routeAccessControl(
  route: RouteConfig,
  denyPaths: string[],
  resources: AuthResources[],
): RouteAccessControl | undefined {
  if (!hasOwnAccess(route)) return undefined
  const host = route.hosts.length === 0 ? {} : { hosts: route.hosts }
  const deny =
    denyPaths.length === 0
      ? []
      : [{ name: `${route.name}:deny`, action: 'deny' as const, paths: denyPaths, ...host }]
  const rules = [...deny, ...route.rules.map((r, i) => ({ name: r.name ?? `${route.name}#${i}`, ...r }))]
  return {
    ...(rules.length === 0 ? {} : { rules }),
    ...(route.rateLimit === null
      ? {}
      : {
          rateLimit: {
            max: route.rateLimit.max,
            timeWindow: route.rateLimit.timeWindowMs,
            key: rateLimitKey(route.rateLimit.key),
          },
        }),
    ...(route.auth === null ? {} : { auth: authOptions(route.auth, resources) }),
    ...(route.accessMode === null ? {} : { mode: route.accessMode }),
  }
}

/**
 * The reverse proxy's `rewriteRequestHeaders` for a route whose auth sets headers upstream: a client's
 * own copy of those headers is dropped, and the values auth found for this request are set.
 */
export function authRequestHeaders(
  route: RouteConfig,
): ((request: FastifyRequest, headers: OutgoingHttpHeaders) => OutgoingHttpHeaders) | undefined {
  const owned = [
    ...Object.keys(route.auth?.jwt?.claimHeaders ?? {}),
    ...(route.auth?.forward?.copyHeaders ?? []),
  ]
  if (owned.length === 0) return undefined
  return (request, headers) => {
    // Only a name that is there is deleted: a delete turns the object into a slow dictionary for every
    // later reader of these headers.
    for (const name of owned) if (name in headers) delete headers[name]
    const own = (request as WithUpstreamHeaders)[kUpstreamHeaders]
    if (own !== undefined) for (const [name, value] of own) headers[name] = value
    return headers
  }
}
