import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'

// Every read of another library's internals in the gateway, in this one file: the plain socket a Node
// TLSSocket wraps, and the head text an HTTP/1.1 ServerResponse keeps until its first write.
// `test/internals.test.ts` checks both against the real node:tls and node:http.

/**
 * The socket a server-side TLSSocket was made over (`tlsSocket._parent`), or undefined. The PROXY protocol
 * sets the client's address on that socket before TLS starts; the TLSSocket's own address getters ask the
 * TCP handle again, so the address is copied over from here.
 */
export function tlsParent(tlsSocket: TLSSocket | Socket): Socket | undefined {
  const parent = (tlsSocket as Socket & { _parent?: unknown })._parent
  return parent !== null && typeof parent === 'object' ? (parent as Socket) : undefined
}

/**
 * Whether an HTTP/1.1 response's head is still unwritten (`res._header === null`): false on HTTP/2's
 * compatibility response, which has no such field, and once the head has been built.
 */
export function headUnwritten(res: ServerResponse): boolean {
  return (res as { _header?: unknown })._header === null
}

/**
 * Puts `text` (whole `name: value\r\n` lines) into the head `writeHead` just built (`res._header`), right
 * after the status line, before Node sends it with the first write. Returns false, changing nothing, when
 * there is no such head (HTTP/2, or Node no longer keeps it as a string).
 */
export function insertIntoHead(res: ServerResponse, text: string): boolean {
  const head = (res as { _header?: unknown })._header
  if (typeof head !== 'string') return false
  const line = head.indexOf('\r\n') + 2
  if (line < 2) return false
  ;(res as { _header?: unknown })._header = head.slice(0, line) + text + head.slice(line)
  return true
}
