import type { IncomingMessage } from 'node:http'
import type { FastifyRequest } from 'fastify'
import type ipaddr from 'ipaddr.js'
import { parseIp } from './address-class.js'
import { connectionMemo } from './connection.js'

/**
 * The connection's remote address, parsed once per connection: a socket's peer does not change, and
 * reading `socket.remoteAddress` goes through a getter chain on every call (its cost per request shows in
 * `node bench/access-control.mjs instructions`). IPv4-mapped IPv6 comes back as IPv4, like `parseIp`.
 */
export function peerAddress(req: IncomingMessage): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const socket = req.socket
  if (socket == null) return null
  const memo = connectionMemo(socket)
  if (memo.peerIp === undefined) memo.peerIp = parseIp(socket.remoteAddress ?? '')
  return memo.peerIp
}

/**
 * The client address as Fastify's `request.ip` defines it (its `trustProxy` setting decides whether
 * `X-Forwarded-For` counts), parsed. Without an `X-Forwarded-For` header `request.ip` is the peer whatever
 * `trustProxy` says, so the per-connection value serves and the getter is not called.
 */
export function clientAddress(request: FastifyRequest): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (request.raw.headers['x-forwarded-for'] === undefined) {
    const ip = peerAddress(request.raw)
    if (ip !== null) return ip
  }
  return parseIp(request.ip)
}
