import { installProxyContext, phaseHook, routeConfig } from '@proxykit/core'
import { kReverseRoute, reverseRouteName } from '@proxykit/reverse-proxy'
import type { FastifyInstance } from 'fastify'
import type { ReverseConfig, RouteConfig } from '../config/types.js'
import { limitBody } from './body-limit.js'
import { type CompiledHeaderRules, compileHeaderRules } from './headers.js'
import { type CompiledRedirect, compileRedirects, redirect } from './redirects.js'
import { respondRoutes } from './respond.js'
import { addResponseRules } from './response-head.js'
import { staticRoutes } from './static.js'

// Issue 27's per-route features on the reverse listener, wired in one place: what runs in `onRequest`
// (response headers, redirects, body limits), and the routes that answer without an upstream.

interface Answering {
  response: CompiledHeaderRules | null
  redirects: CompiledRedirect[]
  bodyLimit: number | null
}

const NOTHING: Answering = { response: null, redirects: [], bodyLimit: null }

function answering(
  headers: RouteConfig['headers'],
  redirects: RouteConfig['redirects'],
  bodyLimit: number | null,
): Answering {
  const out = {
    response: compileHeaderRules(headers?.response ?? null),
    redirects: compileRedirects(redirects),
    bodyLimit,
  }
  return out.response === null && out.redirects.length === 0 && bodyLimit === null ? NOTHING : out
}

/**
 * The `onRequest` hook for `headers.response`, `redirects` and `bodyLimit`: the route is the one Fastify
 * routed to (its config carries the route's name under reverse-proxy's `kReverseRoute`); a request no route took (a 404) gets
 * the listener's own defaults. Added before access control, so a redirect or a 413 costs no rule check.
 */
export function routeFeatureHooks(app: FastifyInstance, config: ReverseConfig): void {
  const byName = new Map<string, Answering>()
  for (const r of config.routes) byName.set(r.name, answering(r.headers, r.redirects, r.bodyLimit))
  const listener = answering(config.headers, config.redirects, config.bodyLimit)
  if (listener === NOTHING && [...byName.values()].every((a) => a === NOTHING)) return
  installProxyContext(app)
  app.addHook(phaseHook('admit', 'gateway'), (request, reply, done) => {
    const name = reverseRouteName(routeConfig(request))
    const f = (name === undefined ? undefined : byName.get(name)) ?? listener
    if (f === NOTHING) return done()
    if (f.response !== null) addResponseRules(request, reply.raw, f.response)
    if (f.redirects.length > 0 && redirect(request, reply, f.redirects)) return
    if (f.bodyLimit !== null && limitBody(request, reply, f.bodyLimit)) return
    done()
  })
}

/** Registers the routes that answer without an upstream (`respond`, `static`). */
export async function answeringRoutes(
  app: FastifyInstance,
  routes: RouteConfig[],
  constraints: (r: RouteConfig) => Record<string, unknown>,
): Promise<void> {
  const own = routes.filter((r) => r.respond !== null || r.static !== null)
  if (own.length === 0) return
  await app.register(async (child) => {
    // These routes never read a body: any content type is taken and left unread (as the proxy's routes).
    child.removeAllContentTypeParsers()
    child.addContentTypeParser('*', (_request, _payload, done) => done(null))
    const statics = own.filter((r) => r.static !== null)
    // `serve: false`: only `reply.sendFile`; the routes are ours (staticRoutes).
    if (statics.length > 0)
      await child.register((await import('@fastify/static')).default, {
        root: statics[0]!.static!.root,
        serve: false,
      })
    for (const r of own) {
      // Marked as the reverse proxy marks its own, so the listener's per-route hooks find their settings.
      const base = { config: { [kReverseRoute]: r.name }, ...constraints(r) }
      if (r.respond !== null) respondRoutes(child, r.respond, base, r.prefix)
      else staticRoutes(child, r.static!, base, r.prefix)
    }
  })
}
