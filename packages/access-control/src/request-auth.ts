// A request's credentials: read (Authorization, Proxy-Authorization or an API key header), checked,
// put to the delegate (forward auth), taken off the request; and the challenge when they fall short.
import { ProxyAuthRequiredError, sendError, UnauthorizedError } from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Authenticator, type AuthResult, isThenable, parseAuthorization } from './auth.js'
import { type DelegateAnswer, invalidOption, type RouteAccessControl } from './options.js'
import { removeCredentials } from './strip.js'

export function challenge(reply: FastifyReply, a: Authenticator, forward: boolean, reason: string): void {
  const value = a.challenge().join(', ')
  if (forward) sendError(reply, new ProxyAuthRequiredError(reason), { 'proxy-authenticate': value })
  else sendError(reply, new UnauthorizedError(reason), { 'www-authenticate': value })
}

export function sendAnswer(reply: FastifyReply, answer: DelegateAnswer): void {
  reply.code(answer.statusCode)
  for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value)
  reply.send(answer.body)
}

/** What the delegate (forward auth) says, on top of what the credentials said. */
async function delegated(request: FastifyRequest, a: Authenticator, result: AuthResult): Promise<AuthResult> {
  const said = await a.delegate!(request)
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

/** The credentials' result, then the delegate's word when there is one to ask. */
function withDelegate(
  request: FastifyRequest,
  a: Authenticator,
  result: AuthResult,
): AuthResult | Promise<AuthResult> {
  return a.delegate === null || result.status === 'bad' ? result : delegated(request, a, result)
}

// A connection's last Authorization (or API key) value and what it parsed to: a client sends the same
// credentials on each request of a keep-alive connection, and the token68 check of a JWT (a regex over
// a few hundred characters) is most of what parsing costs. Keyed by the exact value, so the parse, a
// function of that value alone, is the same. HTTP/1 only: an HTTP/2 request's `socket` is a proxy whose
// traps throw once the session's socket is gone.
const kLastCredentials = Symbol('proxykit.accessControl.lastCredentials')
interface LastCredentials {
  value: string
  credentials: ReturnType<typeof parseAuthorization>
}
type Socket = { [kLastCredentials]?: LastCredentials }

function parsed(request: FastifyRequest, value: string | undefined): ReturnType<typeof parseAuthorization> {
  if (value === undefined || value === '') return null
  const raw = request.raw
  const socket = raw.httpVersionMajor === 1 ? (raw.socket as unknown as Socket | null) : null
  const last = socket?.[kLastCredentials]
  if (last !== undefined && last.value === value) return last.credentials
  const credentials = parseAuthorization(value)
  if (socket != null) socket[kLastCredentials] = { value, credentials }
  return credentials
}

/** The header holding the credentials this request's check consumed, to be taken off it; null: none. */
function consumedHeader(forward: boolean, a: Authenticator, any: boolean, apiKey: boolean): string | null {
  if (forward) return 'proxy-authorization'
  if (!a.stripCredentials || !any) return null
  return apiKey ? a.apiKeyHeader! : 'authorization'
}

/**
 * Reads and checks the request's credentials, and takes the ones meant for this proxy off it:
 * synchronously when nothing had to be waited for (no credentials, a static token, a bearer check that
 * answered at once, as the gateway's does for a token it verified before), so that access control
 * decides the request without a promise and its microtasks; else a promise. Never throws: a failure is a
 * rejected promise.
 */
export function authenticate(
  request: FastifyRequest,
  forward: boolean,
  a: Authenticator,
): AuthResult | Promise<AuthResult> {
  try {
    if (!a.readsCredentials) {
      if (forward) removeCredentials(request.raw, 'proxy-authorization')
      return withDelegate(request, a, { status: 'none' })
    }
    const header = forward ? request.headers['proxy-authorization'] : request.headers.authorization
    let credentials = parsed(request, typeof header === 'string' ? header : undefined)
    let apiKey = false
    if (credentials === null && !forward && a.apiKeyHeader !== null) {
      const key = request.headers[a.apiKeyHeader]
      if (typeof key === 'string' && key !== '') {
        apiKey = true
        credentials = { scheme: 'bearer', user: key, password: '' }
      }
    }
    const checked = a.check(credentials, request)
    // The proxy's own credentials never go on: Proxy-Authorization always (it is hop-by-hop anyway),
    // Authorization and the API key when consumed here; once they are checked.
    const consumed = consumedHeader(forward, a, credentials !== null, apiKey)
    if (isThenable(checked))
      return Promise.resolve(checked).then((result) => {
        if (consumed !== null) removeCredentials(request.raw, consumed)
        return withDelegate(request, a, result)
      })
    if (consumed !== null) removeCredentials(request.raw, consumed)
    return withDelegate(request, a, checked)
  } catch (err) {
    return Promise.reject(err)
  }
}

/** The route's own Authenticator, its option errors renamed onto the route's config path. */
export function routeAuthenticator(
  config: Exclude<RouteAccessControl, false>,
  where: string,
): Authenticator | null {
  if (config.auth === undefined) return null
  try {
    return new Authenticator(config.auth)
  } catch (err) {
    const e = err as Error & { option?: string }
    const own = `@proxykit/access-control: ${e.option}: `
    const rule = e.message.startsWith(own) ? e.message.slice(own.length) : e.message
    throw invalidOption(`${where}.${e.option ?? 'auth'}`, rule)
  }
}
