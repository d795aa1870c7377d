import { parseIp } from './address-class.js'

/** One `Forwarded` element (RFC 7239 §4): parameters by lower-case name, values unquoted. */
export type ForwardedElement = Partial<Record<'for' | 'by' | 'host' | 'proto', string>> &
  Record<string, string>

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/

/**
 * Parses a `Forwarded` header into its elements. Quoted-strings (with `\` escapes) are unquoted; empty
 * pairs (`for=a;`) and empty list elements (`a,,b`) are accepted as RFC 7239 §4 and RFC 9110 §5.6.1 ask.
 * A malformed element stops the parse: the complete elements before it are returned, with `valid: false`.
 */
export function parseForwarded(value: string | string[] | undefined): {
  elements: ForwardedElement[]
  valid: boolean
} {
  const elements: ForwardedElement[] = []
  if (value === undefined) return { elements, valid: true }
  const s = Array.isArray(value) ? value.join(',') : value
  const invalid = { elements, valid: false }
  let i = 0
  let current: ForwardedElement = {}
  const finish = () => {
    if (Object.keys(current).length !== 0) elements.push(current)
    current = {}
  }
  while (i < s.length) {
    const c = s[i]!
    if (c === ' ' || c === '\t' || c === ';') {
      i++
      continue
    }
    if (c === ',') {
      finish()
      i++
      continue
    }
    const nameStart = i
    while (i < s.length && TCHAR.test(s[i]!)) i++
    const name = s.slice(nameStart, i).toLowerCase()
    if (name === '' || s[i] !== '=' || Object.hasOwn(current, name)) return invalid
    i++
    let val = ''
    if (s[i] === '"') {
      i++
      let closed = false
      while (i < s.length) {
        const q = s[i]!
        if (q === '\\' && i + 1 < s.length) {
          val += s[i + 1]
          i += 2
        } else if (q === '"') {
          i++
          closed = true
          break
        } else {
          val += q
          i++
        }
      }
      if (!closed) return invalid
    } else {
      const valueStart = i
      while (i < s.length && TCHAR.test(s[i]!)) i++
      val = s.slice(valueStart, i)
      if (val === '') return invalid
    }
    current[name] = val
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++
    if (i < s.length && s[i] !== ';' && s[i] !== ',') return invalid
  }
  finish()
  return { elements, valid: true }
}

/**
 * A node identifier for `for=` / `by=` (RFC 7239 §6): IPv4 as is, IPv6 in brackets; with a port, or
 * obfuscated (`_hidden`), or `unknown`.
 */
export function forwardedNode(address: string | undefined, port?: number): string {
  if (address === undefined || address === '') return 'unknown'
  const ip = parseIp(address)
  let node = address
  if (ip !== null) node = ip.kind() === 'ipv6' ? `[${ip.toString()}]` : ip.toString()
  return port === undefined ? node : `${node}:${port}`
}

function quoteIfNeeded(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`
}

/** Formats one element: `for="[2001:db8::1]:4711";proto=https;host=example.com`. */
export function formatForwarded(element: ForwardedElement): string {
  const parts: string[] = []
  for (const name of Object.keys(element)) {
    const v = element[name]
    if (v !== undefined) parts.push(`${name}=${quoteIfNeeded(v)}`)
  }
  return parts.join(';')
}
