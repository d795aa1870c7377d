import ipaddr from 'ipaddr.js'

/**
 * The classes of destination address a proxy must treat with care. `public` is everything else.
 * `metadata` is the cloud instance-metadata endpoints (169.254.169.254, fd00:ec2::254, 100.100.100.200 …):
 * they are link-local or private too, but get their own class so a rule can name them.
 */
export type AddressClass =
  | 'loopback'
  | 'private'
  | 'linkLocal'
  | 'uniqueLocal'
  | 'multicast'
  | 'unspecified'
  | 'metadata'
  | 'reserved'
  | 'public'

export const ADDRESS_CLASSES: readonly AddressClass[] = [
  'loopback',
  'private',
  'linkLocal',
  'uniqueLocal',
  'multicast',
  'unspecified',
  'metadata',
  'reserved',
  'public',
]

const METADATA = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '100.100.100.200',
  '192.0.0.192',
  'fd00:ec2::254',
])

// ipaddr.js range names mapped onto ours. Carrier-grade NAT (100.64/10) is private for a proxy's purposes.
const V4: Record<string, AddressClass> = {
  unspecified: 'unspecified',
  broadcast: 'reserved',
  multicast: 'multicast',
  linkLocal: 'linkLocal',
  loopback: 'loopback',
  carrierGradeNat: 'private',
  private: 'private',
  reserved: 'reserved',
  as112: 'reserved',
  amt: 'reserved',
  benchmarking: 'reserved',
  unicast: 'public',
}
const V6: Record<string, AddressClass> = {
  unspecified: 'unspecified',
  linkLocal: 'linkLocal',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'uniqueLocal',
  reserved: 'reserved',
  benchmarking: 'reserved',
  discard: 'reserved',
  orchid2: 'reserved',
  droneRemoteIdProtocolEntityTags: 'reserved',
  unicast: 'public',
  teredo: 'reserved',
  '6to4': 'reserved',
  rfc6145: 'reserved',
  rfc6052: 'reserved',
  amt: 'reserved',
  as112v6: 'reserved',
}

// ipaddr.js's isValidFourPartDecimal ends with this test, but first runs a parser that throws on every
// host name; testing the shape first keeps that exception (microseconds each) off every request.
const FOUR_PART_DECIMAL = /^(0|[1-9]\d*)(\.(0|[1-9]\d*)){3}$/

/**
 * Parses an IP address in its canonical spelling (dotted-quad IPv4, or IPv6 with or without brackets and
 * zone) and unwraps IPv4-mapped IPv6 (`::ffff:127.0.0.1`) to IPv4. Returns null for anything else: the
 * legacy spellings (`2130706433`, `0x7f.1`, `127.1`) are normalised by `normalizeHost`, not here.
 */
export function parseIp(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const known = parsed.get(address)
  if (known !== undefined) return known
  const ip = parseIpUncached(address)
  // A proxy sees the same few client and upstream addresses again and again, and ipaddr.js's parse
  // showed in profiles at a few percent of a proxied request; the answers are shared, never mutated.
  if (address.length > 64) return ip
  if (parsed.size >= PARSED_MAX) parsed.clear()
  parsed.set(address, ip)
  return ip
}

const PARSED_MAX = 4096
const parsed = new Map<string, ipaddr.IPv4 | ipaddr.IPv6 | null>()

function parseIpUncached(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  let a = address
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1)
  const zone = a.indexOf('%')
  if (zone !== -1) a = a.slice(0, zone)
  if (FOUR_PART_DECIMAL.test(a) && ipaddr.IPv4.isValidFourPartDecimal(a)) return ipaddr.IPv4.parse(a)
  if (!ipaddr.IPv6.isValid(a)) return null
  const v6 = ipaddr.IPv6.parse(a)
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6
}

/** The class of an address; unparseable input is `reserved` (never `public`), so callers fail closed. */
export function classifyAddress(address: string | ipaddr.IPv4 | ipaddr.IPv6): AddressClass {
  const ip = typeof address === 'string' ? parseIp(address) : address
  if (ip === null) return 'reserved'
  // parseIp hands out one object per address, so a class worked out once is found again by identity.
  let cls = classes.get(ip)
  if (cls === undefined) {
    cls = classifyUncached(ip)
    classes.set(ip, cls)
  }
  return cls
}

const classes = new WeakMap<ipaddr.IPv4 | ipaddr.IPv6, AddressClass>()

function classifyUncached(ip: ipaddr.IPv4 | ipaddr.IPv6): AddressClass {
  const canonical = ip.toNormalizedString()
  if (METADATA.has(ip.kind() === 'ipv6' ? (ip as ipaddr.IPv6).toString() : canonical)) return 'metadata'
  const range = ip.range()
  // IPv4-compatible IPv6 (`::127.0.0.1`, deprecated by RFC 4291 §2.5.5.1): ipaddr.js calls it unicast, but
  // some stacks still route it to the embedded IPv4 address, so it must never pass as public.
  if (range === 'unicast' && ip.kind() === 'ipv6' && isV4Compatible(ip as ipaddr.IPv6)) return 'reserved'
  return (ip.kind() === 'ipv4' ? V4[range] : V6[range]) ?? 'reserved'
}

function isV4Compatible(ip: ipaddr.IPv6): boolean {
  const p = ip.parts
  return p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0
}
