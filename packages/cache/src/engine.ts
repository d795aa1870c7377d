import type { UpstreamResponse } from '@proxykit/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Collapsing } from './collapsing.js'
import { HitWriter } from './hit.js'
import { Lookup } from './lookup.js'
import { type CacheMetrics, newMetrics, StoreErrors } from './metrics.js'
import type { NormalizedRoute, ResolvedOptions } from './options.js'
import { ResponsePath } from './response.js'
import { BackgroundRevalidation } from './revalidation.js'
import type { CacheStore } from './store.js'
import { StoreWrites } from './store-writes.js'

/**
 * The cache engine, one instance per registration: the parts of a request's way through the cache, wired
 * together. The lookup (`preHandler`) answers hits through the hit writer, joins or leads a collapsed miss,
 * and starts background revalidations; the response path (the proxies' filter, plain routes' `onSend`)
 * stores responses through the store writes.
 */
export class HttpCache {
  readonly metrics: CacheMetrics = newMetrics()
  readonly store: CacheStore
  readonly #lookup: Lookup
  readonly #response: ResponsePath
  /** The ResponseFilter the proxies call before writing the head (bound: pushed as is). */
  readonly filter: (request: FastifyRequest, response: UpstreamResponse) => void

  constructor(fastify: FastifyInstance, options: ResolvedOptions, store: CacheStore) {
    this.store = store
    const metrics = this.metrics
    const errors = new StoreErrors(metrics)
    // Stored fields not passed on (`stripTargetedCacheControl`): kept in the store, since a 304's refresh
    // judges the merged head again, and dropped from every answer.
    const hidden: ReadonlySet<string> = new Set(options.stripTargetedCacheControl ? options.targeted : [])
    const hits = new HitWriter(options.name, metrics, hidden)
    const collapsing = new Collapsing(options.collapseTimeout, store, metrics, hits)
    const writes = new StoreWrites(options, store, metrics, errors)
    this.#response = new ResponsePath(options, store, metrics, hidden, collapsing, writes)
    this.filter = this.#response.filter
    this.#lookup = new Lookup(options, store, metrics, errors, {
      hits,
      collapsing,
      revalidation: new BackgroundRevalidation(fastify, options.backgroundRevalidate),
      filter: this.filter,
    })
  }

  /** The lookup phase (`preHandler`). */
  lookup(
    request: FastifyRequest,
    reply: FastifyReply,
    route: NormalizedRoute,
    done: (err?: Error) => void,
  ): void {
    this.#lookup.run(request, reply, route, done)
  }

  /** Plain routes' response phase (`onSend`). */
  onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
    return this.#response.onSend(request, reply, payload)
  }
}
