import type { FastifyRequest } from 'fastify'

type RouteConfig = FastifyRequest['routeOptions']['config']

let kContext: symbol | null | undefined

/**
 * `request.routeOptions.config`, without the getter's cost. Every `request.routeOptions` read builds a new
 * object of a dozen fields and asks the router about a version constraint (`node bench/access-control.mjs
 * instructions` shows the cost), for a plugin that reads it on every request because it
 * must also see routes it was not registered in front of. Fastify keeps the route's context on the
 * request under an internal symbol whose `config` is that same object: it is found once by description and
 * checked against the getter on first use. If a Fastify version ever differs, this falls back to the
 * getter for good.
 */
export function routeConfig(request: FastifyRequest): RouteConfig | undefined {
  if (kContext === undefined) {
    const viaGetter: RouteConfig | undefined = request.routeOptions.config
    const found = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context')
    const context =
      found === undefined
        ? undefined
        : (request as unknown as Record<symbol, { config?: unknown } | null>)[found]
    kContext = typeof context === 'object' && context !== null && context.config === viaGetter ? found! : null
    return viaGetter
  }
  if (kContext === null) return request.routeOptions.config
  return (request as unknown as Record<symbol, { config?: RouteConfig }>)[kContext]!.config
}
