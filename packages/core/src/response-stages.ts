import type { FastifyRequest } from 'fastify'
import type { UpstreamResponse } from './context.js'

// A proxied answer passes two header stages (docs/architecture.md, "Response stages"):
//
// - pre-cache: what the upstream's answer becomes before anything stores it. The proxy builds the headers
//   (hop-by-hop removed, `hideHeaders`, `Location` rewritten: its `RelayCallbacks.headers`), then
//   `request.proxy.responseFilters` run in order (`preCacheStage`); the cache's filter is one of them and
//   stores what it is given. Everything here is in the stored entry, so it must hold for every request that
//   entry will answer.
// - post-cache: what every answer gets on its way out, cache hits and a proxy's own errors included:
//   the app's hook headers (`mergeHookHeaders` on `reply.raw`, `setResponseOnReply` on Fastify's path,
//   answer.ts), the cache's `Age` and `Cache-Status` and the fields it keeps from clients (targeted cache
//   control), the gateway's `headers.response` rules. Nothing here is stored.

/** The pre-cache stage's filters, in order, on an upstream's answer (or a proxy's own error). */
export function preCacheStage(request: FastifyRequest, response: UpstreamResponse): void {
  const filters = request.proxy?.responseFilters
  if (filters !== undefined) for (let i = 0; i < filters.length; i++) filters[i]!(request, response)
}
