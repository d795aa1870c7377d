import { BadHostError, BadTargetError, type ProxyError } from './errors.js'
import { formatAuthority, type NormalizedHost, normalizeHost } from './host.js'

/** The four request-target forms of RFC 9112 §3.2. */
export type RequestForm = 'origin' | 'absolute' | 'authority' | 'asterisk'

/** Where an absolute-form or authority-form request asked to go, normalised. */
export interface ProxyTarget {
  scheme: 'http' | 'https'
  /** See `NormalizedHost.hostname`. */
  hostname: string
  family: 0 | 4 | 6
  port: number
  /** The value for the Host header sent on: the host, and the port when it is not the scheme's default. */
  authority: string
  /** Path and query (origin-form), `/` when the target had none; empty for authority-form. */
  path: string
}

// RFC 3986 characters allowed in a path and query (no fragment in a request-target, no space, no controls).
const TARGET_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$/
const BAD_PCT = /%(?![0-9A-Fa-f]{2})/
const PORT = /^[0-9]{1,5}$/
// %00-%1F and %7F: an origin that decodes the path may cut it at a NUL or split it at a CR/LF, while the
// rules saw one opaque segment (`/admin%00/x` is not under `/admin` to them, but may be `/admin` to it).
const ENCODED_CONTROL = /%(?:[01][0-9A-Fa-f]|7[Ff])/
// A host from the wire is visible ASCII; `normalizeHost` alone would also take Unicode names.
const NOT_VISIBLE_ASCII = /[^\x21-\x7e]/
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s

type Parsed = ProxyTarget | ProxyError

function splitHostPort(authority: string): { host: string; port: string | null } | null {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']')
    if (end === -1) return null
    const rest = authority.slice(end + 1)
    if (rest !== '' && !rest.startsWith(':')) return null
    return { host: authority.slice(0, end + 1), port: rest === '' ? null : rest.slice(1) }
  }
  const colon = authority.lastIndexOf(':')
  if (colon === -1) return { host: authority, port: null }
  if (authority.indexOf(':') !== colon) return null
  return { host: authority.slice(0, colon), port: authority.slice(colon + 1) }
}

function parsePort(port: string | null, fallback: number | null): number | null {
  if (port === null || port === '') return fallback
  if (!PORT.test(port)) return null
  const n = Number(port)
  return n >= 1 && n <= 65535 ? n : null
}

/**
 * Parses an absolute-form target (`http://host:port/path?query`). Only `http` and `https` are proxied.
 * Userinfo is refused (RFC 9110 §4.2.4 tells recipients to treat it as an error; it is also the
 * `http://allowed@127.0.0.2/` trick).
 */
export function parseAbsoluteTarget(url: string): Parsed {
  const m = ABSOLUTE.exec(url)
  if (m === null) return new BadTargetError('not an absolute URI')
  const scheme = m[1]!.toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') return new BadTargetError(`scheme "${scheme}" is not proxied`)
  const authority = m[2]!
  const rest = m[3]!
  if (authority.includes('@')) return new BadTargetError('userinfo is not allowed in a request-target')
  if (NOT_VISIBLE_ASCII.test(authority)) return new BadTargetError('invalid character in host')
  if (!TARGET_CHARS.test(rest) || BAD_PCT.test(rest))
    return new BadTargetError('invalid character in path or query')
  const hp = splitHostPort(authority)
  if (hp === null) return new BadTargetError('malformed authority')
  const defaultPort = scheme === 'https' ? 443 : 80
  const port = parsePort(hp.port, defaultPort)
  if (port === null) return new BadTargetError('invalid port')
  const host = normalizeHost(hp.host)
  if (host === null) return new BadTargetError('invalid host')
  const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest
  return {
    scheme,
    hostname: host.hostname,
    family: host.family,
    port,
    authority: formatAuthority(host.hostname, port, defaultPort),
    path,
  }
}

/** Parses a CONNECT authority-form target: `host:port`, the port required (RFC 9112 §3.2.3). */
export function parseAuthorityTarget(authority: string): Parsed {
  if (authority.includes('@') || authority.includes('/')) return new BadTargetError('not host:port')
  if (NOT_VISIBLE_ASCII.test(authority)) return new BadTargetError('invalid character in host')
  const hp = splitHostPort(authority)
  if (hp === null || hp.port === null) return new BadTargetError('CONNECT needs host:port')
  const port = parsePort(hp.port, null)
  if (port === null) return new BadTargetError('invalid port')
  const host = normalizeHost(hp.host)
  if (host === null) return new BadTargetError('invalid host')
  return {
    scheme: 'https',
    hostname: host.hostname,
    family: host.family,
    port,
    authority: formatAuthority(host.hostname, port, -1),
    path: '',
  }
}

/** Parses a Host header value (`host[:port]`). */
export function parseHostHeader(value: string): NormalizedHost | ProxyError {
  if (NOT_VISIBLE_ASCII.test(value)) return new BadHostError('invalid character')
  const hp = splitHostPort(value)
  if (hp === null) return new BadHostError('malformed')
  if (hp.port !== null && hp.port !== '' && parsePort(hp.port, null) === null)
    return new BadHostError('invalid port')
  const host = normalizeHost(hp.host)
  return host ?? new BadHostError('invalid host')
}

/**
 * Whether the path of a request-target (origin-form, or the path and query of an absolute-form target)
 * holds a percent-encoded control character (%00-%1F, %7F). The query is left alone: it is the
 * application's data (a form field may well hold an encoded newline) and no path rule reads it. Raw
 * control bytes never get this far: Node's parser refuses them in the request line.
 */
export function hasEncodedControlInPath(pathAndQuery: string): boolean {
  const pct = pathAndQuery.indexOf('%')
  if (pct === -1) return false
  const q = pathAndQuery.indexOf('?')
  if (q !== -1 && q < pct) return false
  return ENCODED_CONTROL.test(q === -1 ? pathAndQuery : pathAndQuery.slice(0, q))
}

/** The form of a request-target, from the request line alone. */
export function requestForm(method: string, url: string): RequestForm {
  if (method === 'CONNECT') return 'authority'
  const c = url.charCodeAt(0)
  if (c === 47 /* / */) return 'origin'
  if (c === 42 /* * */ && url.length === 1) return 'asterisk'
  return 'absolute'
}
