import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import proxyAddr from '@fastify/proxy-addr'
import { connectionMemo } from './connection.js'
import { type ForwardedElement, formatForwarded, forwardedNode } from './forwarded.js'
import { peerAddress } from './peer.js'

/**
 * Which peers may tell us who the client is, in Fastify's own `trustProxy` vocabulary: `true` (all),
 * a hop count, an address or CIDR list (`'127.0.0.1,10.0.0.0/8'` or an array), or a function.
 */
export type TrustProxy = boolean | number | string | string[] | ((address: string, hop: number) => boolean)
export type TrustFunction = (address: string, hop: number) => boolean

export function compileTrust(trust: TrustProxy | undefined): TrustFunction {
  if (trust === undefined || trust === false) return () => false
  if (trust === true) return () => true
  if (typeof trust === 'function') return trust
  if (typeof trust === 'number') return (_a, hop) => hop < trust
  const list = typeof trust === 'string' ? trust.split(',').map((s) => s.trim()) : trust
  return proxyAddr.compile(list)
}

/** Headers through which a client can be identified; the forward proxy's anonymous mode removes them. */
export const IDENTIFYING_HEADERS: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'forwarded',
  'via',
  'from',
  'client-ip',
  'cf-connecting-ip',
])

/** The headers `addForwardingHeaders` replaces (a caller may leave them out of its copy to begin with). */
export const FORWARDING_HEADERS: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'forwarded',
])

export interface ForwardingOptions {
  /** Whether the peer (and so what it says about the client) is trusted. */
  trust: TrustFunction
  /** The scheme the client used to reach us. */
  proto: 'http' | 'https'
  /** The Host the client asked for, passed on as X-Forwarded-Host and `host=`. */
  host?: string | undefined
  /** Set `X-Forwarded-For/-Proto/-Host` (default true). */
  xForwarded?: boolean
  /** Set `Forwarded` (RFC 7239; default true). */
  forwarded?: boolean
  /** `by=` in Forwarded: this proxy's identifier (an obfuscated `_name` or an address). */
  by?: string | undefined
}

function join(value: string | string[] | number | undefined): string | undefined {
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

/** What one connection's peer looks like in the forwarding headers, worked out once per connection. */
export interface PeerMemo {
  remote: string
  peer: string
  node: string
  /** The last `Forwarded` element built on this connection (null before the first), and its inputs. */
  element: string | null
  by: string | undefined
  host: string | undefined
  proto: string
}
function peerOf(req: IncomingMessage): PeerMemo {
  // A connection's peer does not change: even reading `remoteAddress` again showed in instruction counts.
  const connection = connectionMemo(req.socket)
  const known = connection.forwarding
  if (known !== undefined) return known
  const socket = req.socket
  const remote = socket.remoteAddress ?? ''
  // `::ffff:127.0.0.1` (an IPv4 client on a dual-stack listener) is passed on as `127.0.0.1`.
  const peer = peerAddress(req)?.toString() ?? remote
  const memo: PeerMemo = {
    remote,
    peer,
    node: forwardedNode(peer),
    element: null,
    by: undefined,
    host: undefined,
    proto: '',
  }
  connection.forwarding = memo
  return memo
}

/**
 * Adds `X-Forwarded-*` and `Forwarded` to `out` for a request arriving from `req`'s peer. What the client
 * sent in those headers is kept (and appended to) only when the peer is trusted; from anyone else it is
 * dropped, so a client cannot make the upstream believe it came from elsewhere.
 */
export function addForwardingHeaders(
  out: OutgoingHttpHeaders,
  req: IncomingMessage,
  options: ForwardingOptions,
): void {
  const memo = peerOf(req)
  const { remote, peer } = memo
  const trusted = remote !== '' && options.trust(remote, 0)
  const incoming = req.headers
  // Only the ones present: `delete` of an absent property is still a call into V8's runtime.
  for (const name of FORWARDING_HEADERS) if (out[name] !== undefined) delete out[name]
  if (options.xForwarded !== false) {
    const xff = trusted ? join(incoming['x-forwarded-for']) : undefined
    out['x-forwarded-for'] = xff ? `${xff}, ${peer}` : peer
    out['x-forwarded-proto'] = (trusted && join(incoming['x-forwarded-proto'])) || options.proto
    const host = (trusted && join(incoming['x-forwarded-host'])) || options.host
    if (host !== undefined) out['x-forwarded-host'] = host
  }
  if (options.forwarded !== false) {
    let mine = memo.element
    if (
      mine === null ||
      memo.by !== options.by ||
      memo.host !== options.host ||
      memo.proto !== options.proto
    ) {
      const element: ForwardedElement = { for: memo.node }
      if (options.by !== undefined) element.by = options.by
      if (options.host !== undefined) element.host = options.host
      element.proto = options.proto
      mine = formatForwarded(element)
      memo.element = mine
      memo.by = options.by
      memo.host = options.host
      memo.proto = options.proto
    }
    const previous = trusted ? join(incoming.forwarded) : undefined
    out.forwarded = previous ? `${previous}, ${mine}` : mine
  }
}
