import type { FastifyInstance } from 'fastify'
import type { RouteConfig } from '../config/types.js'
import { registerCors } from './cors-headers.js'
import { registerHelmet } from './helmet-headers.js'

// A route's `cors`, `helmet` and `compress` as the real @fastify plugins (helmet's headers computed once by
// helmet itself where they cannot depend on the request: helmet-headers.ts; CORS's for any request but a
// preflight recorded from @fastify/cors once per origin: cors-headers.ts), registered in the route's own
// encapsulated context (the reverse proxy's `register` route option): their hooks run on that route only,
// and core's answer path carries their headers and onSend hooks onto proxied answers and cache hits.

/** `text/*` and `application/json` patterns → @fastify/compress's `customTypes` test. */
function typeMatcher(types: string[]): (contentType: string) => boolean {
  const exact = new Set(types.filter((t) => !t.endsWith('/*')).map((t) => t.toLowerCase()))
  const families = types.filter((t) => t.endsWith('/*')).map((t) => t.slice(0, -1).toLowerCase())
  return (contentType) => {
    const type = contentType.split(';', 1)[0]!.trim().toLowerCase()
    return exact.has(type) || families.some((f) => type.startsWith(f))
  }
}

/** The plugins a route asks for, or undefined when it asks for none (it then stays on the shared context). */
export function answerPlugins(
  route: RouteConfig,
): ((instance: FastifyInstance) => Promise<void>) | undefined {
  const { cors: c, helmet: h, compress: z } = route
  if (c === null && h === null && z === null) return undefined
  return async (instance) => {
    // Each plugin is imported by the first route that asks for it: a gateway without them never loads them.
    if (c !== null) await registerCors(instance, c)
    if (h !== null) await registerHelmet(instance, h)
    if (z !== null) {
      // @fastify/compress applies its threshold to buffers and strings; a proxied answer or a hit is a
      // stream, whose size it does not look at. Its own switch, the x-no-compression request header, set
      // here (the request has gone upstream already) keeps a body under the threshold as it is.
      instance.addHook('onSend', (request, reply, payload, done) => {
        const length = Number(reply.getHeader('content-length') ?? Number.NaN)
        if (length < z.threshold) request.headers['x-no-compression'] = '1'
        done(null, payload)
      })
      await instance.register((await import('@fastify/compress')).default, {
        global: true,
        encodings: z.encodings,
        threshold: z.threshold,
        ...(z.types === null ? {} : { customTypes: typeMatcher(z.types) }),
        // A proxied request body goes upstream as the client sent it: decoding it here would change it.
        globalDecompression: false,
      })
    }
  }
}
