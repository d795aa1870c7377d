import type { IncomingMessage } from 'node:http'
import { parseIp } from './address-class.js'

/** A host as proxykit compares and connects to it: one spelling for every way of writing it. */
export interface NormalizedHost {
  /** Lower-case ASCII (IDNA) name without a trailing dot, dotted-quad IPv4, or IPv6 without brackets. */
  hostname: string
  /** 4 or 6 for an address, 0 for a name. IPv4-mapped IPv6 (`::ffff:127.0.0.2`) is reported as IPv4. */
  family: 0 | 4 | 6
}

// RFC 3986 host: reg-name (unreserved / pct-encoded / sub-delims) or an IP-literal in brackets. Non-ASCII
// letters are accepted here for names written by people (config files: `bücher.example`) and become
// punycode; request-targets and Host headers from the wire are checked to be ASCII before (target.ts).
const REG_NAME = /^[A-Za-z0-9\-._~!$&'()*+,;=%\u00a1-\uffff]+$/
const IP_LITERAL = /^\[[0-9A-Fa-f:.]+\]$/
const PCT = /%(?![0-9A-Fa-f]{2})/

/**
 * Normalises a host the way a browser's URL parser does, so that every spelling of one address is one
 * string: `2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1` and `[::ffff:127.0.0.1]` all become `127.0.0.1`;
 * `LOCALHOST.` becomes `localhost`; percent-encoding is decoded and IDNs become punycode.
 * We reuse the WHATWG parser (Node's `URL`) for that because it is the spelling every client agrees on;
 * the strict RFC 3986 character check runs before it, because the WHATWG parser forgives too much.
 * Returns null for anything that is not a valid host.
 */
export function normalizeHost(input: string): NormalizedHost | null {
  if (input.length === 0 || input.length > 255) return null
  const known = normalized.get(input)
  if (known !== undefined) return known
  // One URL parse per request target showed in the forward proxy's profiles; a proxy sees few hosts.
  const host = normalizeUncached(input)
  if (normalized.size >= NORMALIZED_MAX) normalized.clear()
  normalized.set(input, host === null ? null : Object.freeze(host))
  return host
}

const NORMALIZED_MAX = 4096
const normalized = new Map<string, Readonly<NormalizedHost> | null>()

function normalizeUncached(input: string): NormalizedHost | null {
  if (!(REG_NAME.test(input) || IP_LITERAL.test(input)) || PCT.test(input)) return null
  let hostname: string
  try {
    hostname = new URL(`http://${input}/`).hostname
  } catch {
    return null
  }
  if (hostname.length === 0) return null
  if (hostname.startsWith('[')) {
    const v6 = hostname.slice(1, -1)
    const ip = parseIp(v6)
    if (ip === null) return null
    return ip.kind() === 'ipv4' ? { hostname: ip.toString(), family: 4 } : { hostname: v6, family: 6 }
  }
  if (hostname.endsWith('.')) hostname = hostname.slice(0, -1)
  if (hostname.length === 0 || hostname.includes('..') || hostname.startsWith('.')) return null
  // The WHATWG parser turns every numeric spelling of an IPv4 address into a dotted quad.
  if (parseIp(hostname) !== null) return { hostname, family: 4 }
  // A name ending in a numeric label that the URL parser did not take as IPv4 is not a valid host.
  if (/\.\d+$/.test(hostname) || /^\d+$/.test(hostname)) return null
  return { hostname, family: 0 }
}

/** `host` for a Host header or an authority: IPv6 in brackets, the port only when not the default. */
export function formatAuthority(hostname: string, port: number, defaultPort: number): string {
  const h = hostname.includes(':') ? `[${hostname}]` : hostname
  return port === defaultPort ? h : `${h}:${port}`
}

/**
 * The authority the client addressed, as its Host header would carry it: HTTP/1.1's `Host`, or for an
 * HTTP/2 request the `:authority` pseudo-header (RFC 9113 §8.3.1: it takes the place of Host, and an
 * intermediary making an HTTP/1.1 request of it uses it as the Host), `Host` only when there is none.
 */
export function requestHost(req: IncomingMessage): string | undefined {
  const headers = req.headers
  if (req.httpVersionMajor === 2) return (headers[':authority'] as string | undefined) ?? headers.host
  return headers.host
}
