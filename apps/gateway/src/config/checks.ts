// Rules that span more than one key of a config document (the schema checks each key alone), each
// pushing `path: rule` lines onto the caller's list of problems.

import { FORMAT_RULES } from './schema.js'
import type { GatewayConfig, RouteConfig } from './types.js'
import { type ListenAddress, parseSize } from './units.js'

/** Route names unique, an upstream's origin once per route, upstream URL schemes matching `protocol`. */
export function checkRoutes(routes: RouteConfig[], problems: string[]): void {
  const names = new Map<string, number>()
  routes.forEach((r, i) => {
    const first = names.get(r.name)
    if (first !== undefined)
      problems.push(`reverse.routes[${i}].name: "${r.name}" is already used by reverse.routes[${first}]`)
    else names.set(r.name, i)
  })
  routes.forEach((r, i) => {
    const seen = new Map<string, number>()
    r.upstreams.forEach((u, j) => {
      const origin = new URL(u.url).origin
      const first = seen.get(origin)
      if (first !== undefined)
        problems.push(`reverse.routes[${i}].upstreams[${j}]: ${origin} is already upstreams[${first}]`)
      else seen.set(origin, j)
    })
  })
  routes.forEach((r, i) => {
    // h2 is negotiated in the TLS handshake (ALPN); h2c is HTTP/2 without TLS.
    const want = r.protocol === 'h2' ? 'https:' : r.protocol === 'h2c' ? 'http:' : null
    r.upstreams.forEach((u, j) => {
      if (want !== null && new URL(u.url).protocol !== want)
        problems.push(
          `reverse.routes[${i}].upstreams[${j}]: must be an ${want.slice(0, -1)} URL with protocol ${r.protocol}`,
        )
    })
  })
}

/** The cache's sizes parse (the schema's pattern lets a few spellings through that parseSize refuses). */
export function checkCacheSizes(cacheDoc: any, problems: string[]): void {
  for (const key of ['maxSize', 'maxEntrySize', 'local'])
    if (cacheDoc[key] !== undefined && parseSize(cacheDoc[key]) === null)
      problems.push(`cache.${key}: ${FORMAT_RULES.size}`)
}

/** A Redis store has a `redis`, a local tier has a Redis store, and `redis` names one topology. */
export function checkRedis(doc: any, problems: string[]): void {
  const store = doc.cache?.store ?? 'memory'
  if (store === 'redis' && doc.redis === undefined)
    problems.push('redis: is required when cache.store is "redis"')
  if (doc.cache?.local !== undefined && store !== 'redis')
    problems.push('cache.local: is a tier in front of Redis; it needs cache.store: redis')
  if (typeof doc.redis !== 'object' || doc.redis === null) return
  const given = ['url', 'cluster', 'sentinels'].filter((k) => doc.redis[k] !== undefined)
  if (given.length !== 1)
    problems.push(
      given.length === 0
        ? 'redis: needs one of url, cluster or sentinels'
        : `redis: ${given.join(' and ')} are exclusive; give one`,
    )
  if (doc.redis.sentinels !== undefined && doc.redis.name === undefined)
    problems.push('redis.name: is required with redis.sentinels (the Sentinel group name)')
  if (doc.redis.name !== undefined && doc.redis.sentinels === undefined)
    problems.push('redis.name: only means something with redis.sentinels')
}

/** No two listeners on one fixed address. */
export function checkListens(config: GatewayConfig, problems: string[]): void {
  const seen = new Map<string, string>()
  const listens: Array<[string, ListenAddress | undefined]> = [
    ['forward.listen', config.forward?.listen],
    ['reverse.listen', config.reverse?.listen],
    ['reverse.redirectHttp', config.reverse?.redirectHttp ?? undefined],
    ['admin.listen', config.admin?.listen],
  ]
  for (const [name, l] of listens) {
    if (l === undefined || l.port === 0) continue
    const key = `${l.host}:${l.port}`
    const other = seen.get(key)
    if (other !== undefined) problems.push(`${name}: ${key} is already taken by ${other}`)
    else seen.set(key, name)
  }
}

/** What HTTPS to clients needs: certificates or ACME, and what ACME needs in turn. */
export function checkReverseTls(rev: any, config: GatewayConfig, problems: string[]): void {
  if (rev !== undefined && rev.tls === undefined) {
    // These are about HTTPS to clients: without certificates they would be silently meaningless.
    if (rev.http2 === true) problems.push('reverse.http2: needs reverse.tls (HTTP/2 to clients is over TLS)')
    if (rev.redirectHttp !== undefined) problems.push('reverse.redirectHttp: needs reverse.tls')
    if (rev.hsts !== undefined) problems.push('reverse.hsts: needs reverse.tls')
  }
  const acmeConfig = config.reverse?.tls?.acme
  if (rev?.tls !== undefined && rev.tls.certs === undefined && rev.tls.acme === undefined)
    problems.push('reverse.tls.certs: is required (unless reverse.tls.acme obtains the certificate)')
  if (acmeConfig == null) return
  if (acmeConfig.domains.length === 0)
    problems.push('reverse.tls.acme.domains: is required when no route has a host')
  // Each worker would order its own certificate, and the CA's check would reach a worker that may not
  // hold the challenge: with Redis they share one order and answer from there.
  if (config.workers > 1 && config.redis === null)
    problems.push(
      `reverse.tls.acme: with workers (${config.workers}) needs redis, where the workers share one order and its challenges`,
    )
  if (config.reverse!.redirectHttp === null)
    problems.push(
      'reverse.redirectHttp: is required by reverse.tls.acme (HTTP-01 challenges are answered there)',
    )
}

/**
 * Only a maxEntrySize someone wrote can be too large: the default shrinks with maxSize (which Ajv has
 * filled in when it was left out).
 */
export function checkMaxEntrySize(cacheDoc: any, config: GatewayConfig, problems: string[]): void {
  if (cacheDoc.maxEntrySize !== undefined && config.cache.maxEntrySize > config.cache.maxSize)
    problems.push(`cache.maxEntrySize: must not be larger than cache.maxSize (${cacheDoc.maxSize})`)
}
