import type { Socket } from 'node:net'
import type ipaddr from 'ipaddr.js'

/** What proxykit remembers about one client connection; every field is filled on first use. */
export interface ConnectionMemo {
  /** The last Host header seen on the connection, and its normalised hostname. */
  hostHeader: string | undefined
  hostname: string | undefined
  /** The peer's address, parsed (null: unparseable; undefined: not looked at yet). */
  peerIp: ipaddr.IPv4 | ipaddr.IPv6 | null | undefined
  /** forwarding.ts's per-connection state (the peer's `for=` node, the last `Forwarded` element). */
  forwarding: unknown
  /** @proxykit/cache's per-connection state (the last cache key built, and what it was built from). */
  cache: unknown
}

// One property on the socket for all of it. Each property added to Node's sockets gives them another hidden
// class, and past four Node's own socket code (ServerResponse, detachSocket) turns megamorphic: with three
// separate symbols that cost more than the memos saved, in callgrind counts. A WeakMap cost more still
// (an identity hash and a table probe per lookup). One property: one more class, no measurable cost.
const kConnection = Symbol('proxykit.connection')
type MemoSocket = Socket & { [kConnection]?: ConnectionMemo }

/** The memo of `socket`'s connection (made on first use; gone with the socket). */
export function connectionMemo(socket: Socket): ConnectionMemo {
  const s = socket as MemoSocket
  let memo = s[kConnection]
  if (memo === undefined) {
    memo = {
      hostHeader: undefined,
      hostname: undefined,
      peerIp: undefined,
      forwarding: undefined,
      cache: undefined,
    }
    s[kConnection] = memo
  }
  return memo
}
