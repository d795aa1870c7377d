import type { Socket } from 'node:net'
import type ipaddr from 'ipaddr.js'
import type { PeerMemo } from './forwarding.js'

/** What core remembers about one client connection; every field is filled on first use. */
export interface ConnectionMemo {
  /** The last Host header seen on the connection, and its normalised hostname. */
  hostHeader: string | undefined
  hostname: string | undefined
  /** The peer's address, parsed (null: unparseable; undefined: not looked at yet). */
  peerIp: ipaddr.IPv4 | ipaddr.IPv6 | null | undefined
  /** forwarding.ts's per-connection state (the peer's `for=` node, the last `Forwarded` element). */
  forwarding: PeerMemo | undefined
}

/** The memo as stored: core's fields, then the slots other packages took (`connectionSlot`). */
interface StoredMemo extends ConnectionMemo {
  slots: unknown[]
}

// One property on the socket for all of it. Each property added to Node's sockets gives them another hidden
// class, and past four Node's own socket code (ServerResponse, detachSocket) turns megamorphic: with three
// separate symbols that cost more than the memos saved, in callgrind counts. A WeakMap cost more still
// (an identity hash and a table probe per lookup). One property: one more class, no measurable cost.
const kConnection = Symbol('proxykit.connection')
type MemoSocket = Socket & { [kConnection]?: StoredMemo }

/** The memo of `socket`'s connection (made on first use; gone with the socket). */
export function connectionMemo(socket: Socket): ConnectionMemo {
  return storedMemo(socket)
}

function storedMemo(socket: Socket): StoredMemo {
  const s = socket as MemoSocket
  let memo = s[kConnection]
  if (memo === undefined) {
    memo = {
      hostHeader: undefined,
      hostname: undefined,
      peerIp: undefined,
      forwarding: undefined,
      slots: [],
    }
    s[kConnection] = memo
  }
  return memo
}

/** A place of one's own in a connection's memo (`connectionSlot`). */
export interface ConnectionSlot<T> {
  /** The symbol the slot was asked for with. */
  readonly key: symbol
  /** What was set for `socket`'s connection, or undefined. */
  get(socket: Socket): T | undefined
  set(socket: Socket, value: T): void
}

// Slots are positions in the memo's `slots` array, handed out once per key: an array element is read with
// no property lookup and keeps the memo one shape whichever packages use it.
const slotIndexes = new Map<symbol, number>()

/**
 * Per-connection state for a package other than core (the cache remembers the last key built on a
 * connection), on the same one socket property as core's own, so that core need not know its consumers.
 * The same `key` always gives the same slot; make it a `Symbol` of your own.
 */
export function connectionSlot<T>(key: symbol): ConnectionSlot<T> {
  let index = slotIndexes.get(key)
  if (index === undefined) {
    index = slotIndexes.size
    slotIndexes.set(key, index)
  }
  const i = index
  return {
    key,
    get: (socket) => (socket as MemoSocket)[kConnection]?.slots[i] as T | undefined,
    set: (socket, value) => {
      storedMemo(socket).slots[i] = value
    },
  }
}
