import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'

// Every read of another library's internals in the gateway, in this one file: the plain socket a Node
// TLSSocket wraps. `test/internals.test.ts` checks it against the real node:tls.

/**
 * The socket a server-side TLSSocket was made over (`tlsSocket._parent`), or undefined. The PROXY protocol
 * sets the client's address on that socket before TLS starts; the TLSSocket's own address getters ask the
 * TCP handle again, so the address is copied over from here.
 */
export function tlsParent(tlsSocket: TLSSocket | Socket): Socket | undefined {
  const parent = (tlsSocket as Socket & { _parent?: unknown })._parent
  return parent !== null && typeof parent === 'object' ? (parent as Socket) : undefined
}
