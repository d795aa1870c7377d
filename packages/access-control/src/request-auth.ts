// A request's credentials: read (Authorization, Proxy-Authorization or an API key header), checked,
// put to the delegate (forward auth), taken off the request; and the challenge when they fall short.
import { ProxyAuthRequiredError, sendError, UnauthorizedError } from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Authenticator, type AuthResult, parseAuthorization } from './auth.js'
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

/** Reads and checks the request's credentials, and takes the ones meant for this proxy off it. */
export async function authenticate(
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
