import type { FastifyInstance, RouteOptions } from 'fastify'
import type { RespondConfig } from './types.js'

// `respond`: a route answered here with a fixed status, headers and body (nginx's `return`, Caddy's
// `respond`; Traefik needs a plugin or a service of its own for it).

/** Every method but CONNECT (which Node never routes), as the reverse proxy's routes take. */
export const routeMethods = (app: FastifyInstance): string[] =>
  app.supportedMethods.filter((m) => m !== 'CONNECT')

/** The URLs a prefix route serves: the prefix itself and everything below it. */
export const prefixUrls = (prefix: string): string[] =>
  prefix === '/' ? ['/', '/*'] : [prefix.replace(/\/$/, ''), `${prefix.replace(/\/$/, '')}/*`]

export function respondRoutes(
  app: FastifyInstance,
  respond: RespondConfig,
  base: Pick<RouteOptions, 'config' | 'constraints'>,
  prefix: string,
): void {
  const headers: Record<string, string> = { ...respond.headers }
  const named = new Set(Object.keys(headers).map((h) => h.toLowerCase()))
  if (respond.body !== '' && !named.has('content-type')) headers['content-type'] = 'text/plain; charset=utf-8'
  const body = Buffer.from(respond.body)
  for (const url of prefixUrls(prefix)) {
    app.route({
      ...base,
      method: routeMethods(app),
      url,
      handler: (_request, reply) => {
        reply.code(respond.status).headers(headers)
        // A 204 or 304 has no body (RFC 9110 §15.3.5, §15.4.5), whatever the config says.
        return reply.send(respond.status === 204 || respond.status === 304 ? undefined : body)
      },
    })
  }
}
