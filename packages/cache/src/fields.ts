import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'

/** A field's value as one string (list values joined), or undefined when absent. */
export function headerString(h: OutgoingHttpHeaders | IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name]
  if (v === undefined) return undefined
  return Array.isArray(v) ? v.join(', ') : String(v)
}

/** The body length a `Content-Length` announces, or null when there is none (or it is not a number). */
export function announcedLength(h: OutgoingHttpHeaders): number | null {
  const v = h['content-length']
  if (typeof v === 'number') return v
  // Several Content-Length values are not one announced length (as before: never compared).
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null
}
