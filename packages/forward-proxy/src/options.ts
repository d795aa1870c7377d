import { randomBytes } from 'node:crypto'
import { promises as dns } from 'node:dns'
import { isIP } from 'node:net'
import {
  ADDRESS_CLASSES,
  type AddressClass,
  compileTrust,
  optionChecks,
  type TrustFunction,
  type TrustProxy,
} from '@proxykit/core'
import ipaddr from 'ipaddr.js'
import { cachedLookup } from './dns-cache.js'
import type { OwnAddress } from './own-listeners.js'

/** A resolved address, as `dns.lookup(name, { all: true })` returns them. */
export interface LookupAddress {
  address: string
  family: number
}

/** Resolves a host name to every address it has. The default is `dns.lookup` (the system resolver). */
export type LookupFunction = (hostname: string) => Promise<LookupAddress[]>

export interface ParentProxyOptions {
  /** `http://host:port` of the parent proxy; userinfo (`http://user:pass@host:port`) is the credential. */
  url: string
  username?: string
  password?: string
}

export interface ForwardProxyOptions {
  /** `anonymous` (default) hides the client from the origin; `transparent` adds `Via` and `Forwarded`. */
  mode?: 'anonymous' | 'transparent'
  /** This proxy's name in `Via` (RFC 9110 §7.6.3) and for loop detection. Default `proxykit-<random>`. */
  pseudonym?: string
  /** Transparent mode: peers whose `X-Forwarded-For`/`Forwarded` are kept and appended to (Fastify's vocabulary). */
  trustProxy?: TrustProxy
  /** Destination address classes (`loopback`, `private` …) or CIDRs allowed besides public addresses. */
  allow?: string[]
  /** CIDRs (or addresses) refused even when public or allowed. */
  deny?: string[]
  /** Ports CONNECT may reach. Default `[443]`. */
  connectPorts?: number[]
  /**
   * Ports plain-HTTP (absolute-form) requests may reach: numbers and `'low-high'` ranges. Default Squid's
   * `Safe_ports`: 80, 443, 1025-65535 and the classic 21, 70, 210, 280, 488, 591, 777.
   */
  ports?: Array<number | string>
  /** Name resolution (for tests or a custom resolver). Default `dns.lookup` with `all: true`. */
  lookup?: LookupFunction
  /**
   * Milliseconds a name's addresses are remembered (they are still checked on every request). Default
   * 10 000; 0 resolves on every request.
   */
  dnsCacheTtl?: number
  /** Milliseconds for DNS plus the TCP (and TLS) connect. Default 10 000. */
  connectTimeout?: number
  /** Milliseconds to wait for the origin's response head. Default 60 000. */
  headersTimeout?: number
  /** Milliseconds of silence allowed inside a response body. Default 60 000. */
  bodyTimeout?: number
  /** Milliseconds a CONNECT tunnel may stay silent both ways before it is closed. Default 300 000. */
  tunnelIdleTimeout?: number
  /** Milliseconds an idle keep-alive connection to an origin is kept. Default 4 000. */
  keepAliveTimeout?: number
  /** Connections per origin address (undefined: no limit). */
  connections?: number
  /** How many origin pools are kept; the least recently used is closed beyond it. Default 1024. */
  maxOrigins?: number
  /** TLS to origins for `https://` absolute-form targets. */
  tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer | Array<string | Buffer> }
  /** Send everything (absolute-form and CONNECT) through this parent proxy. */
  parentProxy?: string | ParentProxyOptions
  /** Extra request methods routed for absolute-form (Fastify knows only the standard ones). */
  extraMethods?: string[]
  /**
   * Other listeners of this process (an admin API, a reverse proxy) that are never a destination, whatever
   * `allow` says: a 403. Read on every check, so an array filled as listeners bind works. This server's
   * own address is always refused (508, a loop) and needs no entry.
   */
  ownAddresses?: Iterable<OwnAddress>
}

export interface ResolvedParent {
  url: URL
  /** `Basic …` or null. */
  authorization: string | null
}

export interface ResolvedOptions {
  mode: 'anonymous' | 'transparent'
  pseudonym: string
  trust: TrustFunction
  allowClasses: ReadonlySet<AddressClass>
  allowRanges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>
  denyRanges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>
  connectPorts: ReadonlySet<number>
  /** `ports` as a test: whether a plain-HTTP request may reach this port. */
  portAllowed: (port: number) => boolean
  lookup: LookupFunction
  dnsCacheTtl: number
  connectTimeout: number
  headersTimeout: number
  bodyTimeout: number
  tunnelIdleTimeout: number
  keepAliveTimeout: number
  connections: number | undefined
  maxOrigins: number
  tls: { rejectUnauthorized: boolean; ca?: string | Buffer | Array<string | Buffer> }
  parent: ResolvedParent | null
  extraMethods: string[]
  ownAddresses: Iterable<OwnAddress>
  /** Where this server listens, filled when it binds: a destination there is a loop. */
  selfAddresses: OwnAddress[]
}

export const defaults = {
  mode: 'anonymous',
  connectPorts: [443],
  ports: [80, 443, '1025-65535', 21, 70, 210, 280, 488, 591, 777] as Array<number | string>,
  connectTimeout: 10_000,
  dnsCacheTtl: 10_000,
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
  tunnelIdleTimeout: 300_000,
  keepAliveTimeout: 4_000,
  maxOrigins: 1024,
  extraMethods: ['PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT'],
} as const

const systemLookup: LookupFunction = (hostname) => dns.lookup(hostname, { all: true, verbatim: true })

const PSEUDONYM = /^[A-Za-z0-9._-]{1,64}$/

const check = optionChecks('@proxykit/forward-proxy')

function fail(option: string, rule: string): never {
  throw check.invalid(option, rule)
}

function positive(opts: Record<string, unknown>, name: string, fallback: number): number {
  return check.integer(opts[name], name, fallback, 1, 'must be a positive integer')
}

function parseRange(option: string, entry: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  // ipaddr.js takes inet_aton's spellings (`010.0.0.1` is octal 8.0.0.1, `2130706434` is 127.0.0.2): a rule
  // must mean what it reads as, so the address must be one net.isIP accepts.
  if (isIP(entry.split('/')[0]!) === 0)
    return fail(
      option,
      `has "${entry}", which is neither an address class (${ADDRESS_CLASSES.join(', ')}) nor an address or CIDR (IPv4 as four decimal octets, no leading zeros)`,
    )
  try {
    if (entry.includes('/')) {
      const [ip, bits] = ipaddr.parseCIDR(entry)
      if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
        return [(ip as ipaddr.IPv6).toIPv4Address(), bits - 96]
      return [ip, bits]
    }
    const ip = ipaddr.process(entry)
    return [ip, ip.kind() === 'ipv4' ? 32 : 128]
  } catch {
    return fail(
      option,
      `has "${entry}", which is neither an address class (${ADDRESS_CLASSES.join(', ')}) nor an address or CIDR`,
    )
  }
}

/** `ports` (numbers and 'low-high' ranges) as a membership test; a range is checked by bounds, not expanded. */
function portList(value: unknown): (port: number) => boolean {
  const rule = 'must be an array of ports (1-65535) and "low-high" ranges'
  if (!Array.isArray(value)) fail('ports', rule)
  const single = new Set<number>()
  const ranges: Array<[number, number]> = []
  const valid = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535
  for (const entry of value) {
    if (typeof entry === 'number' && valid(entry)) {
      single.add(entry)
      continue
    }
    const m = typeof entry === 'string' ? /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(entry) : null
    const lo = m === null ? Number.NaN : Number(m[1])
    const hi = m?.[2] === undefined ? lo : Number(m[2])
    if (!valid(lo) || !valid(hi) || lo > hi) fail('ports', `${rule}; got ${JSON.stringify(entry)}`)
    if (lo === hi) single.add(lo)
    else ranges.push([lo, hi])
  }
  return (port) => single.has(port) || ranges.some(([lo, hi]) => port >= lo && port <= hi)
}

function parent(value: ForwardProxyOptions['parentProxy']): ResolvedParent | null {
  if (value === undefined) return null
  const o = typeof value === 'string' ? { url: value } : value
  if (typeof o !== 'object' || o === null || typeof o.url !== 'string')
    fail('parentProxy', 'must be a URL string or { url, username?, password? }')
  let url: URL
  try {
    url = new URL(o.url)
  } catch {
    return fail('parentProxy', `has an invalid url "${o.url}"`)
  }
  if (url.protocol !== 'http:')
    fail('parentProxy', 'must be an http:// URL (TLS to the parent is not supported)')
  const user = o.username ?? decodeURIComponent(url.username)
  const pass = o.password ?? decodeURIComponent(url.password)
  url.username = ''
  url.password = ''
  const authorization =
    user !== '' || pass !== '' ? `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` : null
  return { url, authorization }
}

/** Validates the options once, at registration: every message names the option and the rule. */
export function resolveOptions(opts: ForwardProxyOptions = {}): ResolvedOptions {
  const o = opts as Record<string, unknown>
  const mode = opts.mode ?? defaults.mode
  if (mode !== 'anonymous' && mode !== 'transparent') fail('mode', 'must be "anonymous" or "transparent"')
  const pseudonym = opts.pseudonym ?? `proxykit-${randomBytes(4).toString('hex')}`
  if (typeof pseudonym !== 'string' || !PSEUDONYM.test(pseudonym))
    fail('pseudonym', 'must be 1-64 characters of A-Z a-z 0-9 . _ -')
  const allowClasses = new Set<AddressClass>()
  const allowRanges: ResolvedOptions['allowRanges'] = []
  for (const entry of opts.allow ?? []) {
    if (typeof entry !== 'string') fail('allow', 'must be an array of strings')
    if ((ADDRESS_CLASSES as readonly string[]).includes(entry)) allowClasses.add(entry as AddressClass)
    else allowRanges.push(parseRange('allow', entry))
  }
  const denyRanges: ResolvedOptions['denyRanges'] = []
  for (const entry of opts.deny ?? []) {
    if (typeof entry !== 'string') fail('deny', 'must be an array of strings')
    denyRanges.push(parseRange('deny', entry))
  }
  const ports = opts.connectPorts ?? defaults.connectPorts
  if (!Array.isArray(ports) || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
    fail('connectPorts', 'must be an array of port numbers (1-65535)')
  const portAllowed = portList(opts.ports ?? defaults.ports)
  if (opts.lookup !== undefined && typeof opts.lookup !== 'function') fail('lookup', 'must be a function')
  const tls = opts.tls ?? {}
  if (typeof tls !== 'object' || tls === null) fail('tls', 'must be an object')
  const extraMethods = opts.extraMethods ?? [...defaults.extraMethods]
  if (!Array.isArray(extraMethods) || extraMethods.some((m) => typeof m !== 'string' || !/^[A-Z-]+$/.test(m)))
    fail('extraMethods', 'must be an array of upper-case method names')
  if (opts.connections !== undefined) positive(o, 'connections', 1)
  const dnsCacheTtl = opts.dnsCacheTtl ?? defaults.dnsCacheTtl
  if (typeof dnsCacheTtl !== 'number' || !Number.isInteger(dnsCacheTtl) || dnsCacheTtl < 0)
    fail('dnsCacheTtl', 'must be a whole number of milliseconds, 0 or more')
  const lookup = opts.lookup ?? systemLookup
  const ownAddresses = opts.ownAddresses ?? []
  if (typeof (ownAddresses as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function')
    fail('ownAddresses', 'must be an iterable of { address, port }')
  return {
    mode,
    pseudonym,
    trust: compileTrust(opts.trustProxy),
    allowClasses,
    allowRanges,
    denyRanges,
    connectPorts: new Set(ports),
    portAllowed,
    lookup: cachedLookup(lookup, dnsCacheTtl),
    dnsCacheTtl,
    connectTimeout: positive(o, 'connectTimeout', defaults.connectTimeout),
    headersTimeout: positive(o, 'headersTimeout', defaults.headersTimeout),
    bodyTimeout: positive(o, 'bodyTimeout', defaults.bodyTimeout),
    tunnelIdleTimeout: positive(o, 'tunnelIdleTimeout', defaults.tunnelIdleTimeout),
    keepAliveTimeout: positive(o, 'keepAliveTimeout', defaults.keepAliveTimeout),
    connections: opts.connections,
    maxOrigins: positive(o, 'maxOrigins', defaults.maxOrigins),
    tls: {
      rejectUnauthorized: tls.rejectUnauthorized !== false,
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    },
    parent: parent(opts.parentProxy),
    extraMethods,
    ownAddresses,
    selfAddresses: [],
  }
}
