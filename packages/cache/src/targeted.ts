import type { OutgoingHttpHeaders } from 'node:http'

/**
 * Targeted cache control (RFC 9213): `CDN-Cache-Control` and fields like it carry Cache-Control
 * directives for one class of caches. A targeted field's value is a Structured Field Dictionary
 * (RFC 8941 §3.2); one that does not parse as one is ignored, as if absent (RFC 9213 §2.1). Members are
 * `key[=bare-item]` with parameters; inner lists carry no cache directive and are not accepted.
 */
const KEY = '[a-z*][a-z0-9_.*-]*'
const BARE_ITEM =
  '(?:-?\\d{1,15}(?:\\.\\d{1,3})?|"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\["\\\\])*"|[A-Za-z*][!#$%&\'*+.^_`|~:/0-9A-Za-z-]*|:[A-Za-z0-9+/=]*:|\\?[01])'
const PARAMS = `(?:;[ ]*${KEY}(?:=${BARE_ITEM})?)*`
const MEMBER = `${KEY}(?:=${BARE_ITEM})?${PARAMS}`
const DICTIONARY = new RegExp(`^${MEMBER}(?:[ \\t]*,[ \\t]*${MEMBER})*$`)

/** A targeted field's value as a Structured Field Dictionary, or null when it is not one (or empty). */
function dictionary(value: string | string[] | number | undefined): string | null {
  if (value === undefined || typeof value === 'number') return null
  // RFC 8941 §4.2: field lines are combined with commas; surrounding spaces are not part of the value.
  const joined = (Array.isArray(value) ? value.join(',') : value).replace(/^ +| +$/g, '')
  return joined !== '' && DICTIONARY.test(joined) ? joined : null
}

/**
 * The Cache-Control this cache obeys for a response (§2.2): the first field of `targeted` (in that
 * order) present with a valid, non-empty value, then Cache-Control and Expires are ignored; otherwise
 * Cache-Control (and Expires) as usual. `targeted` holds lower-case field names.
 */
export function effectiveCacheControl(
  headers: OutgoingHttpHeaders,
  targeted: readonly string[],
): { value: string | string[] | number | undefined; targeted: boolean } {
  for (let i = 0; i < targeted.length; i++) {
    const value = dictionary(headers[targeted[i]!])
    if (value !== null) return { value, targeted: true }
  }
  return { value: headers['cache-control'], targeted: false }
}
