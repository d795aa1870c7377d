import type { HashOn, ReverseProxyOptions } from '@proxykit/reverse-proxy'
import type { RouteConfig } from '../config/types.js'
import { answerPlugins } from '../routes/answer-plugins.js'
import { authRequestHeaders } from '../routes/auth.js'
import { applyHeaderRules, compileHeaderRules } from '../routes/headers.js'
import { compileRewrites, rewritePathHook } from '../routes/redirects.js'

/** A route's deny list as absolute path prefixes (see the schema: relative to the route's prefix). */
export function denyPaths(route: RouteConfig): string[] {
  const base = route.prefix === '/' ? '' : route.prefix.replace(/\/$/, '')
  return route.deny.map((p) => (base !== '' && (p === base || p.startsWith(`${base}/`)) ? p : `${base}${p}`))
}

/**
 * The reverse proxy's hooks for a route's `headers.request`, its `auth` (claims and forward-auth headers,
 * applied last so that a client's own copies never survive) and `rewrite`.
 */
function routeHooks(r: RouteConfig): Pick<ReverseProxyOptions, 'rewriteRequestHeaders' | 'rewritePath'> {
  const request = compileHeaderRules(r.headers?.request ?? null)
  const auth = authRequestHeaders(r)
  const rewrites = compileRewrites(r.rewrite)
  const rewriteRequestHeaders: ReverseProxyOptions['rewriteRequestHeaders'] =
    request === null
      ? auth
      : (req, headers) => {
          applyHeaderRules(headers, request, req)
          return auth === undefined ? headers : auth(req, headers)
        }
  return {
    ...(rewriteRequestHeaders === undefined ? {} : { rewriteRequestHeaders }),
    ...(rewrites.length === 0 ? {} : { rewritePath: rewritePathHook(rewrites) }),
  }
}

/** The routes the reverse proxy serves: those with upstreams (`respond` and `static` answer themselves). */
export const proxiedRoutes = (routes: RouteConfig[]): RouteConfig[] =>
  routes.filter((r) => r.upstreams.length > 0)

/** @proxykit/reverse-proxy options for the reverse listener's routes. */
export function reverseProxyOptions(
  routes: RouteConfig[],
  stripRequestHeaders?: string[],
): ReverseProxyOptions {
  return {
    ...(stripRequestHeaders === undefined ? {} : { stripRequestHeaders }),
    routes: proxiedRoutes(routes).map((r) => ({
      ...routeHooks(r),
      name: r.name,
      prefix: r.prefix,
      // nginx's `location /api/ { proxy_pass http://up; }`: the path goes upstream unchanged unless the config
      // says otherwise. The plugin's own default is @fastify/http-proxy's (the prefix stripped), so say it.
      rewritePrefix: r.rewritePrefix ?? r.prefix,
      preserveHost: r.preserveHost,
      ...(r.hosts.length === 0 ? {} : { host: r.hosts }),
      upstreams: r.upstreams.map((u) => ({ url: u.url, weight: u.weight })),
      balancer: r.balancer,
      ...(r.hashOn === null ? {} : { hashOn: r.hashOn as HashOn }),
      healthCheck:
        r.healthCheck === null
          ? false
          : {
              path: r.healthCheck.path,
              intervalMs: r.healthCheck.intervalMs,
              timeoutMs: r.healthCheck.timeoutMs,
              fall: r.healthCheck.fall,
              rise: r.healthCheck.rise,
            },
      passiveHealth:
        r.passiveHealth === false
          ? false
          : {
              failures: r.passiveHealth.failures,
              ejectMs: r.passiveHealth.ejectMs,
              maxEjectMs: Math.max(60_000, r.passiveHealth.ejectMs),
              statuses: r.passiveHealth.statuses,
            },
      retries: r.retries === 0 ? false : r.retries,
      timeouts: { headers: r.timeoutMs },
      ...(r.protocol === 'http1' ? {} : { protocol: r.protocol }),
      ...optional({ register: answerPlugins(r) }),
    })),
  }
}

/** Whether a (normalised, port-less) host is one of `hosts`; `*.d` is any subdomain of d. */
export function hostMatches(hosts: readonly string[], host: string | null): boolean {
  if (hosts.length === 0) return true
  if (host === null) return false
  for (const h of hosts) {
    if (h.startsWith('*.') ? host.endsWith(h.slice(1)) && host.length > h.length - 1 : h === host) return true
  }
  return false
}

/** The entries whose value is set. */
function optional<T extends Record<string, unknown>>(entries: T): Partial<T> {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** The route a request belongs to, by the same rule the reverse proxy uses (host, then longest prefix). */
export function routeMatcher(
  routes: RouteConfig[],
): (host: string | null, path: string) => RouteConfig | null {
  const sorted = [...routes].sort(
    (a, b) => Number(b.hosts.length > 0) - Number(a.hosts.length > 0) || b.prefix.length - a.prefix.length,
  )
  return (host, path) => {
    for (const r of sorted) {
      if (!hostMatches(r.hosts, host)) continue
      const p = r.prefix
      if (
        p === '/' ||
        path === p ||
        path.startsWith(p.endsWith('/') ? p : `${p}/`) ||
        path.startsWith(`${p}?`)
      )
        return r
    }
    return null
  }
}
