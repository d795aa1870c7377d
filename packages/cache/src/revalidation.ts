import { randomBytes } from 'node:crypto'
import { type IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { FORWARD_PATH, kOriginalTarget } from '@proxykit/core'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/**
 * Background revalidation (`stale-while-revalidate`, RFC 5861): the stale entry has answered, and the
 * same request goes through the app again (`fastify.inject`), marked so that its lookup validates the
 * entry instead of being answered from it. One at a time per URL.
 */
export class BackgroundRevalidation {
  readonly #fastify: FastifyInstance
  readonly #enabled: boolean
  readonly #revalidating = new Set<string>()
  /** A per-instance secret marking our own background revalidation requests. */
  readonly #token = randomBytes(16).toString('hex')

  constructor(fastify: FastifyInstance, enabled: boolean) {
    this.#fastify = fastify
    this.#enabled = enabled
  }

  /**
   * Whether a request carrying `x-proxykit-cache-revalidate` is one of ours (the token matches). The field
   * goes either way: it is never passed upstream.
   */
  ours(headers: IncomingHttpHeaders): boolean {
    const own = headers['x-proxykit-cache-revalidate'] === this.#token
    delete headers['x-proxykit-cache-revalidate']
    return own
  }

  start(request: FastifyRequest, url: string): void {
    if (!this.#enabled || this.#revalidating.has(url)) return
    this.#revalidating.add(url)
    const headers: Record<string, string> = {}
    for (const name in request.headers) {
      const v = request.headers[name]
      if (v !== undefined && name !== 'content-length')
        headers[name] = Array.isArray(v) ? v.join(', ') : String(v)
    }
    delete headers['if-none-match']
    delete headers['if-modified-since']
    headers['x-proxykit-cache-revalidate'] = this.#token
    const raw = request.raw as typeof request.raw & { [kOriginalTarget]?: string }
    const original = raw[kOriginalTarget] ?? (request.proxy.form === 'absolute' ? raw.url : undefined)
    // light-my-request keeps only the path of `url`: a forward-proxied (absolute-form) target travels on
    // the request's prototype as core's kOriginalTarget, which classification reads first.
    class RevalidationRequest extends IncomingMessage {}
    if (original !== undefined)
      (RevalidationRequest.prototype as unknown as Record<symbol, string>)[kOriginalTarget] = original
    this.#fastify
      .inject({
        method: 'GET',
        // The forward proxy routes on FORWARD_PATH and gives `req.url` the target back afterwards.
        url:
          request.routeOptions.url === FORWARD_PATH
            ? FORWARD_PATH
            : original !== undefined && raw.url === original
              ? (request.proxy.target?.path ?? '/')
              : (raw.url ?? '/'),
        headers,
        ...(original !== undefined ? { Request: RevalidationRequest as never } : {}),
      })
      .catch((err: unknown) => request.log.warn({ err }, '@proxykit/cache: background revalidation failed'))
      .finally(() => this.#revalidating.delete(url))
  }
}
