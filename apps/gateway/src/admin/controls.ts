import type { InstancesView } from '../instances.js'

/**
 * What the admin API can ask of the running gateway. The listeners fill these in from the plugins'
 * decorators; a control left undefined answers 501 (the plugin in use does not offer it).
 */
export interface AdminControls {
  /** Readiness: one entry per check (listener up, Redis reachable …), true when it passes. */
  readiness(): Promise<Record<string, boolean>>
  /** Resolves with the number of cache entries removed (null when the store does not count). */
  purge?: (what: { url?: string; tag?: string }) => Promise<number | null>
  upstreams?: UpstreamControls
  /** The gateway instances announced in the shared Redis (undefined without Redis). */
  instances?: () => Promise<InstancesView>
}

export interface UpstreamView {
  route: string
  url: string
  weight: number
  state: string
  inFlight: number
}

export interface UpstreamControls {
  list(): UpstreamView[]
  add(route: string, url: string, weight: number): unknown
  drain(route: string, url: string): unknown
  undrain(route: string, url: string): unknown
  remove(route: string, url: string): unknown
}

/** A 4xx answer from a control (unknown route, duplicate upstream …). */
export class ControlError extends Error {
  readonly statusCode: number
  constructor(message: string, statusCode = 400) {
    super(message)
    this.statusCode = statusCode
  }
}
