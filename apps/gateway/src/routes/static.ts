import type { FastifyInstance, RouteOptions } from 'fastify'
import { prefixUrls } from './respond.js'
import type { StaticConfig } from './types.js'

// `static`: files from a directory through @fastify/static's `reply.sendFile` (@fastify/send: ETag,
// Last-Modified, ranges, conditional requests, and no path outside the root). The gateway registers the
// GET and HEAD routes itself, so that each carries its config route's name and cache setting like the
// proxied routes (the shared cache then answers in front of the files).

export function staticRoutes(
  app: FastifyInstance,
  statik: StaticConfig,
  base: Pick<RouteOptions, 'config' | 'constraints'>,
  prefix: string,
): void {
  const trimmed = prefix === '/' ? '' : prefix.replace(/\/$/, '')
  const options = {
    index: statik.index === false ? false : [statik.index],
    dotfiles: statik.dotfiles,
    maxAge: statik.maxAgeMs,
  }
  for (const url of prefixUrls(prefix)) {
    app.route({
      ...base,
      method: ['GET', 'HEAD'],
      url,
      handler: (request, reply) => {
        const raw = request.raw.url ?? '/'
        const q = raw.indexOf('?')
        const path = (q === -1 ? raw : raw.slice(0, q)).slice(trimmed.length) || '/'
        return reply.sendFile(path, statik.root, options as never)
      },
    })
  }
}
