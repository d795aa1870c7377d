import { optionChecks } from '@proxykit/core'
import { protocolMismatch, resolveUpstream, type UpstreamOption } from './options.js'
import type { ProxyRoute } from './route.js'
import type { UpstreamStatus } from './upstream.js'

/**
 * `fastify.reverseProxy`: the upstream groups at run time, for the gateway's admin API and metrics. One per
 * Fastify context: it holds the routes of every registration made in that context (a sibling context's
 * registrations have their own).
 */
export interface ReverseProxyApi {
  /** Route names, in configuration order. */
  routes(): string[]
  /** Each upstream of a route with its health and load. */
  upstreams(route: string): UpstreamStatus[]
  /** Adds an upstream; it takes traffic at once (and is health-checked at once when checks are on). */
  addUpstream(route: string, upstream: string | UpstreamOption): UpstreamStatus
  /**
   * Stops new requests to an upstream and resolves once its in-flight requests are done (true), or after
   * `timeoutMs` (default 30 s) with requests still running (false). The upstream stays listed as draining.
   */
  drainUpstream(route: string, url: string, options?: { timeoutMs?: number }): Promise<boolean>
  /** Lets a drained upstream take traffic again. */
  undrainUpstream(route: string, url: string): UpstreamStatus
  /** Drains, then removes the upstream and closes its connections. */
  removeUpstream(route: string, url: string, options?: { timeoutMs?: number }): Promise<boolean>
  /** Runs the active health checks of one route (or all) now. */
  checkHealth(route?: string): Promise<void>
}

async function drain(u: { draining: boolean; idle(): Promise<void> }, timeoutMs = 30_000): Promise<boolean> {
  u.draining = true
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
    timer.unref()
  })
  const done = await Promise.race([u.idle().then(() => true), timedOut])
  clearTimeout(timer)
  return done
}

/** The routes of one Fastify context's registrations, behind the decorator's methods. */
export class RouteRegistry implements ReverseProxyApi {
  readonly #routes = new Map<string, ProxyRoute>()

  /** A registration's routes; a name another registration of the context already uses is refused. */
  add(routes: Iterable<ProxyRoute>): void {
    const list = [...routes]
    for (const r of list) {
      if (this.#routes.has(r.options.name))
        throw optionChecks('@proxykit/reverse-proxy').invalid(
          'routes',
          `the route name '${r.options.name}' is already used by another registration in this Fastify context`,
        )
    }
    for (const r of list) this.#routes.set(r.options.name, r)
  }

  #find(name: string): ProxyRoute {
    const route = this.#routes.get(name)
    if (route === undefined) throw new Error(`@proxykit/reverse-proxy: no route named '${name}'`)
    return route
  }

  #findUpstream(name: string, url: string) {
    const route = this.#find(name)
    const u = route.find(url)
    if (u === undefined) throw new Error(`@proxykit/reverse-proxy: route '${name}' has no upstream ${url}`)
    return { route, u }
  }

  routes(): string[] {
    return [...this.#routes.keys()]
  }

  upstreams(name: string): UpstreamStatus[] {
    const now = Date.now()
    return this.#find(name).upstreams.map((u) => u.status(now))
  }

  addUpstream(name: string, upstream: string | UpstreamOption): UpstreamStatus {
    const route = this.#find(name)
    const option = resolveUpstream(upstream, 'upstream')
    const wrong = protocolMismatch(route.options.protocol, option.url)
    if (wrong !== null) throw optionChecks('@proxykit/reverse-proxy').invalid('upstream', wrong)
    if (route.find(option.url) !== undefined)
      throw new Error(`@proxykit/reverse-proxy: route '${name}' already has upstream ${option.url}`)
    return route.add(option).status(Date.now())
  }

  drainUpstream(name: string, url: string, o?: { timeoutMs?: number }): Promise<boolean> {
    return drain(this.#findUpstream(name, url).u, o?.timeoutMs)
  }

  undrainUpstream(name: string, url: string): UpstreamStatus {
    const { u } = this.#findUpstream(name, url)
    u.draining = false
    return u.status(Date.now())
  }

  async removeUpstream(name: string, url: string, o?: { timeoutMs?: number }): Promise<boolean> {
    const { route, u } = this.#findUpstream(name, url)
    const drained = await drain(u, o?.timeoutMs)
    route.remove(u)
    await (drained ? u.close() : u.destroy())
    return drained
  }

  async checkHealth(name?: string): Promise<void> {
    const list = name === undefined ? [...this.#routes.values()] : [this.#find(name)]
    await Promise.all(
      list.flatMap((r) => (r.health === null ? [] : r.upstreams.map((u) => r.health!.check(u)))),
    )
  }
}
