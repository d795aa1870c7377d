/**
 * The marker on every Fastify route the reverse proxy declares: its `config[kReverseRoute]` is the name of
 * the proxy route it belongs to. An app (the gateway) reads it in its own `onRoute` hooks and per request
 * to tell our routes from its own, e.g. to give each proxy route its own cache or access settings.
 * A registered symbol (`Symbol.for`) so that two copies of this package in one app still agree on it.
 */
export const kReverseRoute: unique symbol = Symbol.for('proxykit.reverseProxy.route')

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The reverse-proxy route this Fastify route belongs to (set by @proxykit/reverse-proxy). */
    [kReverseRoute]?: string
  }
}

/** The reverse-proxy route name a Fastify route's config carries, if it is one of ours. */
export function reverseRouteName(
  config: { [kReverseRoute]?: unknown } | undefined | null,
): string | undefined {
  const name = config?.[kReverseRoute]
  return typeof name === 'string' ? name : undefined
}
