import type { ReverseProxyApi } from '@proxykit/reverse-proxy'
import type { UpstreamSample } from '../metrics.js'
import { ControlError, type UpstreamControls } from './controls.js'

// The reverse proxy's `fastify.reverseProxy` API as the admin API's upstream controls. Its errors (an
// unknown route or upstream, a duplicate) become 4xx answers.

/** How long a removal waits for the upstream's in-flight requests before cutting them. */
const REMOVE_DRAIN_MS = 10_000

async function attempt<T>(action: () => T | Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (err) {
    const message = (err as Error).message.replace(/^@proxykit\/reverse-proxy: /, '')
    throw new ControlError(message, /no route|has no upstream/.test(message) ? 404 : 400)
  }
}

export function upstreamControls(api: ReverseProxyApi): UpstreamControls {
  return {
    list: () =>
      api
        .routes()
        .flatMap((route) =>
          api
            .upstreams(route)
            .map((u) => ({ route, url: u.url, weight: u.weight, state: u.state, inFlight: u.inFlight })),
        ),
    add: (route, url, weight) => attempt(() => api.addUpstream(route, { url, weight })),
    // Draining answers at once; the upstream finishes its in-flight requests in the background.
    drain: (route, url) =>
      attempt(() => {
        const status = api.upstreams(route).find((u) => u.url === new URL(url).origin)
        if (status === undefined) throw new Error(`route '${route}' has no upstream ${url}`)
        void api.drainUpstream(route, url)
        return { ...status, state: 'draining' }
      }),
    undrain: (route, url) => attempt(() => api.undrainUpstream(route, url)),
    remove: (route, url) =>
      attempt(async () => ({
        drained: await api.removeUpstream(route, url, { timeoutMs: REMOVE_DRAIN_MS }),
      })),
  }
}

/** The reverse proxy's upstreams as the metrics read them at scrape time. */
export function upstreamSamples(api: ReverseProxyApi): () => UpstreamSample[] {
  return () =>
    api
      .routes()
      .flatMap((route) =>
        api
          .upstreams(route)
          .map((u) => ({ route, url: u.url, healthy: u.state === 'healthy', inFlight: u.inFlight })),
      )
}
