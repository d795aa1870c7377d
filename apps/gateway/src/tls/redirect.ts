import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ReverseConfig } from '../config/types.js'
import { createListener, type Listener } from '../listeners/app.js'
import type { Shared } from '../shared.js'

/** The path prefix of ACME HTTP-01 challenges (RFC 8555 §8.3), which the redirect never answers. */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/'

/**
 * Where an ACME client plugs in: `http01(token)` returns the key authorization to answer for a pending
 * challenge token, or null (404) when there is none. Held by reference in `Shared`, so that setting it
 * after the gateway started (or in a reload's copy) reaches the running redirect listener.
 */
export interface AcmeChallenges {
  http01: ((token: string) => string | null | Promise<string | null>) | null
}

// A Host header's name and optional port: a DNS name or an IPv4 address, or a bracketed IPv6 literal.
// Anything else is no place to send a browser (and would let a crafted Host shape the Location).
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/
// The challenge token is base64url (RFC 8555 §8.1).
const TOKEN = /^[A-Za-z0-9_-]+$/

function pathOf(target: string): string {
  try {
    const u = new URL(target)
    return `${u.pathname}${u.search}`
  } catch {
    return '/'
  }
}

/**
 * The plain-HTTP listener beside a TLS reverse listener: `301` to the same host and path over https
 * (nginx's `return 301 https://$host$request_uri`), except ACME HTTP-01 challenges, answered from
 * `shared.acme`. `httpsPort()` is the TLS listener's port, left out of the Location when it is 443.
 */
export function redirectListener(config: ReverseConfig, shared: Shared, httpsPort: () => number): Listener {
  const listener = createListener({
    name: 'redirect',
    clientTimeouts: config.clientTimeouts,
    maxConnectionsPerClient: config.maxConnectionsPerClient,
    trustProxy: config.trustProxy,
    refuseConnect: true,
    logger: shared.logger,
    metrics: shared.metrics,
    accessLog: shared.config.log.access,
    routeOf: (request) => (request.url.startsWith(ACME_CHALLENGE_PREFIX) ? 'acme-challenge' : 'redirect'),
  })
  const app = listener.app
  const acme = shared.acme
  app.get(`${ACME_CHALLENGE_PREFIX}:token`, async (request: FastifyRequest, reply: FastifyReply) => {
    const token = (request.params as { token: string }).token
    const answer = TOKEN.test(token) && acme.http01 !== null ? await acme.http01(token) : null
    if (answer === null)
      return reply.code(404).type('text/plain; charset=utf-8').send('no such ACME challenge\n')
    return reply.type('application/octet-stream').send(answer)
  })
  app.all('/*', (request, reply) => {
    const host = request.headers.host
    if (host === undefined || !HOST.test(host))
      return reply.code(400).type('text/plain; charset=utf-8').send('a valid Host header is needed\n')
    const name = host.replace(/:\d+$/, '')
    const port = httpsPort()
    const raw = request.raw.url ?? '/'
    // An absolute-form target (a client treating this as a proxy) keeps only its path and query.
    const path = raw.startsWith('/') ? raw : pathOf(raw)
    const target = `https://${name}${port === 443 ? '' : `:${port}`}${path}`
    return reply
      .code(301)
      .header('location', target)
      .type('text/plain; charset=utf-8')
      .send(`Moved Permanently: ${target}\n`)
  })
  return listener
}
