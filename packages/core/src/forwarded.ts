import { parseIp } from './address-class.js'

/** One `Forwarded` element (RFC 7239 §4): parameters by lower-case name, values unquoted. */
export type ForwardedElement = Partial<Record<'for' | 'by' | 'host' | 'proto', string>> &
  Record<string, string>

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Parses a `Forwarded` header into its elements. Quoted-strings (with `\` escapes) are unquoted; a
 * malformed element stops the parse and what was parsed before it is returned, with `valid: false`.
 */
export function parseForwarded(value: string | string[] | undefined): {
  elements: ForwardedElement[]
  valid: boolean
} {
  const elements: ForwardedElement[] = []
  if (value === undefined) return { elements, valid: true }
  const s = Array.isArray(value) ? value.join(',') : value
  let i = 0
  let current: ForwardedElement = {}
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++
  }
  while (i < s.length) {
    ws()
    const eq = s.indexOf('=', i)
    if (eq === -1) return { elements, valid: false }
    const name = s.slice(i, eq).trim().toLowerCase()
    if (!TOKEN.test(name) || name in current) return { elements, valid: false }
    i = eq + 1
    let val = ''
    if (s[i] === '"') {
      i++
      let closed = false
      while (i < s.length) {
        const c = s[i]!
        if (c === '\\' && i + 1 < s.length) {
          val += s[i + 1]
          i += 2
        } else if (c === '"') {
          i++
          closed = true
          break
        } else {
          val += c
          i++
        }
      }
      if (!closed) return { elements, valid: false }
    } else {
      const start = i
      while (i < s.length && s[i] !== ';' && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++
      val = s.slice(start, i)
      if (!TOKEN.test(val)) return { elements, valid: false }
    }
    current[name] = val
    ws()
    if (i >= s.length || s[i] === ',') {
      elements.push(current)
      current = {}
      i++
    } else if (s[i] === ';') {
      i++
    } else {
      return { elements, valid: false }
    }
  }
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
