import type { FastifyRequest } from 'fastify'
import { routeContext } from './internals.js'

type RouteConfig = FastifyRequest['routeOptions']['config']

// Whether Fastify's route context holds the getter's config object (checked on first use).
let sameConfig: boolean | undefined

/**
 * `request.routeOptions.config`, without the getter's cost. Every `request.routeOptions` read builds a new
 * object of a dozen fields and asks the router about a version constraint (`node bench/access-control.mjs
 * instructions` shows the cost), for a plugin that reads it on every request because it
 * must also see routes it was not registered in front of. Fastify keeps the route's context on the
 * request (internals.ts) whose `config` is that same object: it is checked against the getter on first
 * use. If a Fastify version ever differs, this falls back to the getter for good.
 */
export function routeConfig(request: FastifyRequest): RouteConfig | undefined {
  if (sameConfig === undefined) {
    const viaGetter: RouteConfig | undefined = request.routeOptions.config
    const context = routeContext(request)
    sameConfig = typeof context === 'object' && context !== null && context.config === viaGetter
    return viaGetter
  }
  if (!sameConfig) return request.routeOptions.config
  return routeContext(request)!.config as RouteConfig
}
