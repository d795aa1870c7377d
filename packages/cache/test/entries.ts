import type { CachedResponse, EntryPolicy } from '../src/index.js'

/**
 * A stored response's head for store tests: a 200 fresh for `policy.lifetime` (default 60 s) from now,
 * deleted after 60 s unless `over` says otherwise; `over` replaces top-level fields, `policy` the
 * policy's own.
 */
export function cachedResponse(
  over: Partial<CachedResponse> = {},
  policy: Partial<EntryPolicy> = {},
): CachedResponse {
  return {
    statusCode: 200,
    headers: {},
    vary: null,
    tags: [],
    policy: {
      responseTime: Date.now(),
      initialAge: 0,
      lifetime: 60,
      noCache: false,
      mustRevalidate: false,
      strict: false,
      swr: 0,
      sie: 0,
      authOk: false,
      etag: null,
      lastModified: null,
      ...policy,
    },
    deleteAt: Date.now() + 60_000,
    size: 0,
    ...over,
  }
}
