import type { HashOn, ReverseProxyOptions } from '@proxykit/reverse-proxy'
import type { RouteConfig } from '../config/types.js'
import { answerPlugins } from '../routes/answer-plugins.js'
import { authRequestHeaders } from '../routes/auth.js'

/** A route's deny list as absolute path prefixes (see the schema: relative to the route's prefix). */
export function denyPaths(route: RouteConfig): string[] {
  const base = route.prefix === '/' ? '' : route.prefix.replace(/\/$/, '')
  return route.deny.map((p) => (base !== '' && (p === base || p.startsWith(`${base}/`)) ? p : `${base}${p}`))
}

/** @proxykit/reverse-proxy options for the reverse listener's routes. */
export function reverseProxyOptions(
  routes: RouteConfig[],
  stripRequestHeaders?: string[],
): ReverseProxyOptions {
  return {
    ...(stripRequestHeaders === undefined ? {} : { stripRequestHeaders }),
    routes: routes.map((r) => ({
      name: r.name,
      prefix: r.prefix,
      // nginx's `location /api/ { proxy_pass http://up; }`: the path goes upstream unchanged unless the config
      // says otherwise. The plugin's own default is @fastify/http-proxy's (the prefix stripped), so say it.
      rewritePrefix: r.rewritePrefix ?? r.prefix,
      preserveHost: r.preserveHost,
      ...(r.host === null ? {} : { host: r.host }),
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
      ...optional({ register: answerPlugins(r), rewriteRequestHeaders: authRequestHeaders(r) }),
    })),
  }
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
    (a, b) => Number(b.host !== null) - Number(a.host !== null) || b.prefix.length - a.prefix.length,
  )
  return (host, path) => {
    for (const r of sorted) {
      if (r.host !== null && r.host !== host) continue
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
