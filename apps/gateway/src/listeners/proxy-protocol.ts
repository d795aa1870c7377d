import { isIPv4, isIPv6 } from 'node:net'

// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2), parsed strictly: a header
// that is not exactly what the specification allows is refused rather than guessed at, since the address
// it carries decides rules and rate limits. proxy-protocol-js was considered: its v1 parser takes any
// non-space run as an address and any digits as a port, and it has no incremental (prefix) mode.

/** The longest v1 header, CRLF included (the specification's own bound). */
export const V1_MAX = 107
/** The longest v2 header accepted: 16 bytes of head and up to 2032 of addresses and TLVs. */
export const V2_MAX = 2048

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1')

/** Where the client really is, as the header says (null: use the connection's own peer). */
export interface ProxyAddresses {
  source: { address: string; port: number; family: 'IPv4' | 'IPv6' }
  destination: { address: string; port: number }
}

export type ProxyHeader =
  /** More bytes are needed; what came so far is a valid beginning. */
  | { complete: false }
  /** `length` bytes were the header; `addresses` is null for v1 UNKNOWN and v2 LOCAL / UNSPEC. */
  | { complete: true; version: 1 | 2; length: number; addresses: ProxyAddresses | null }

export class ProxyHeaderError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ProxyHeaderError'
  }
}

/** Whether `buf` is (or may still become) a PROXY header: 'no' as soon as one byte rules both out. */
export function looksLikeProxyHeader(buf: Buffer): 'yes' | 'no' | 'maybe' {
  for (const sig of [V1_SIGNATURE, V2_SIGNATURE]) {
    const n = Math.min(buf.length, sig.length)
    if (buf.subarray(0, n).equals(sig.subarray(0, n))) return n === sig.length ? 'yes' : 'maybe'
  }
  return 'no'
}

/**
 * Parses the PROXY header at the start of `buf`. Returns `{ complete: false }` while `buf` is a valid
 * beginning of one, and throws ProxyHeaderError as soon as it cannot be one (or is longer than allowed).
 */
export function parseProxyHeader(buf: Buffer): ProxyHeader {
  const kind = looksLikeProxyHeader(buf)
  if (kind === 'no') throw new ProxyHeaderError('not a PROXY protocol header')
  if (kind === 'maybe') return { complete: false }
  return buf[0] === 0x50 ? parseV1(buf) : parseV2(buf)
}

const PORT = /^(0|[1-9][0-9]{0,4})$/

function port(text: string, what: string): number {
  const n = PORT.test(text) ? Number(text) : Number.NaN
  if (!(n <= 65535)) throw new ProxyHeaderError(`v1: ${what} port ${JSON.stringify(text)} is not 0-65535`)
  return n
}

function parseV1(buf: Buffer): ProxyHeader {
  const end = buf.indexOf('\r\n', 0, 'latin1')
  const scanned = end === -1 ? Math.min(buf.length, V1_MAX) : end
  // Printable US-ASCII only; a CR or LF that is not the closing CRLF is an error at once.
  for (let i = 0; i < scanned; i++) {
    const c = buf[i]!
    if (c < 0x20 || c > 0x7e) {
      if (c === 0x0d && i === buf.length - 1) break
      throw new ProxyHeaderError(`v1: byte 0x${c.toString(16).padStart(2, '0')} at offset ${i}`)
    }
  }
  if (end === -1) {
    if (buf.length >= V1_MAX) throw new ProxyHeaderError(`v1: no CRLF within ${V1_MAX} bytes`)
    return { complete: false }
  }
  const length = end + 2
  if (length > V1_MAX) throw new ProxyHeaderError(`v1: header longer than ${V1_MAX} bytes`)
  const line = buf.toString('latin1', 0, end)
  const fields = line.split(' ')
  // "PROXY UNKNOWN" may carry anything up to the CRLF, which the receiver ignores.
  if (fields[1] === 'UNKNOWN') return { complete: true, version: 1, length, addresses: null }
  if (fields.length !== 6)
    throw new ProxyHeaderError('v1: expected "PROXY TCP4|TCP6 src dst srcport dstport"')
  const [, proto, src, dst, sport, dport] = fields as [string, string, string, string, string, string]
  const valid = proto === 'TCP4' ? isIPv4 : proto === 'TCP6' ? isIPv6 : null
  if (valid === null) throw new ProxyHeaderError(`v1: unknown protocol ${JSON.stringify(proto)}`)
  for (const [a, what] of [
    [src, 'source'],
    [dst, 'destination'],
  ] as const) {
    // Node's isIPv6 takes a zone index (fe80::1%eth0), which no header should carry.
    if (!valid(a) || a.includes('%'))
      throw new ProxyHeaderError(`v1: ${what} ${JSON.stringify(a)} is not an ${proto} address`)
  }
  return {
    complete: true,
    version: 1,
    length,
    addresses: {
      source: { address: src, port: port(sport, 'source'), family: proto === 'TCP4' ? 'IPv4' : 'IPv6' },
      destination: { address: dst, port: port(dport, 'destination') },
    },
  }
}

function ipv6(b: Buffer): string {
  // IPv4-mapped addresses in the form Node itself gives a dual-stack socket's peer.
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff)
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16))
  // The URL parser writes the canonical compressed form (RFC 5952).
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1)
}

function parseV2(buf: Buffer): ProxyHeader {
  if (buf.length < 16) return { complete: false }
  const versionCommand = buf[12]!
  if (versionCommand >> 4 !== 2) throw new ProxyHeaderError(`v2: version ${versionCommand >> 4} is not 2`)
  const command = versionCommand & 0x0f
  if (command > 1) throw new ProxyHeaderError(`v2: unknown command ${command}`)
  const familyTransport = buf[13]!
  const bodyLength = buf.readUInt16BE(14)
  const length = 16 + bodyLength
  if (length > V2_MAX) throw new ProxyHeaderError(`v2: header of ${length} bytes is over ${V2_MAX}`)
  const family = familyTransport >> 4
  const transport = familyTransport & 0x0f
  if (family > 3 || transport > 2)
    throw new ProxyHeaderError(`v2: unknown address family/transport 0x${familyTransport.toString(16)}`)
  // The address block's size is known from the family: refuse a short one before waiting for more.
  const addressLength = [0, 12, 36, 216][family]!
  if (bodyLength < addressLength)
    throw new ProxyHeaderError(`v2: ${bodyLength} bytes cannot hold the addresses of family ${family}`)
  if (buf.length < length) return { complete: false }
  // TLVs (type, 16-bit length, value) must fill the rest exactly.
  let at = 16 + addressLength
  while (at < length) {
    if (at + 3 > length) throw new ProxyHeaderError('v2: truncated TLV')
    at += 3 + buf.readUInt16BE(at + 1)
    if (at > length) throw new ProxyHeaderError('v2: a TLV runs past the header')
  }
  // LOCAL (the balancer's own health check) and UNSPEC say nothing about a client: the connection's own
  // addresses stand. A stream listener cannot take a datagram's addresses.
  if (command === 0 || family === 0 || family === 3)
    return { complete: true, version: 2, length, addresses: null }
  if (transport !== 1) throw new ProxyHeaderError('v2: a datagram (UDP) header on a stream connection')
  const addresses: ProxyAddresses =
    family === 1
      ? {
          source: { address: buf.subarray(16, 20).join('.'), port: buf.readUInt16BE(24), family: 'IPv4' },
          destination: { address: buf.subarray(20, 24).join('.'), port: buf.readUInt16BE(26) },
        }
      : {
          source: { address: ipv6(buf.subarray(16, 32)), port: buf.readUInt16BE(48), family: 'IPv6' },
          destination: { address: ipv6(buf.subarray(32, 48)), port: buf.readUInt16BE(50) },
        }
  return { complete: true, version: 2, length, addresses }
}
