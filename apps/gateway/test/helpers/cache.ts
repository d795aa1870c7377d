import { request } from 'undici'

/**
 * Waits (within `timeoutMs`) until `base` can answer `path` from its cache, asking with `only-if-cached`
 * (a 504 until then, never an upstream request). A shared store is written as a body ends, so the client
 * that caused the write can have its answer a moment before another instance can see the entry.
 * Resolves whether it became visible; the caller's own assertions say what that means.
 */
export async function untilCached(
  base: string,
  path: string,
  host: string,
  timeoutMs = 5_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const probe = await request(`${base}${path}`, { headers: { host, 'cache-control': 'only-if-cached' } })
    await probe.body.dump()
    if (probe.statusCode === 200) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
