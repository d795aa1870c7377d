import type { Server, Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import { compileTrust } from '@proxykit/core'
import type { FastifyBaseLogger } from 'fastify'
import type { ProxyProtocolConfig } from '../config/types.js'
import { tlsParent } from '../internals.js'
import { looksLikeProxyHeader, ProxyHeaderError, parseProxyHeader } from './proxy-protocol.js'

/** Why the PROXY protocol check closed a connection (the `reason` of its log line). */
export type ProxyRefusal = 'missing' | 'invalid' | 'untrusted' | 'timeout'

/**
 * Reads the PROXY protocol header (v1 or v2) of every connection the server accepts before anything
 * else sees the connection: its 'connection' listeners (Node's HTTP parser, socket tracking, the
 * per-client cap) then find the client's real address in `socket.remoteAddress`, and so do `request.ip`,
 * rules, rate limits, logs and X-Forwarded-For.
 *
 * A peer in `from` must send a header (a balancer's LOCAL health check keeps the peer's own address);
 * a peer outside it must not: a header from anywhere else is someone trying to choose their address.
 * Either mistake closes the connection, logged with the reason. The header must arrive within
 * `timeoutMs` and fit the protocol's bounds (107 bytes for v1, 2048 here for v2).
 */
export function acceptProxyProtocol(
  server: Server,
  config: ProxyProtocolConfig,
  log: FastifyBaseLogger,
): void {
  const trusted = compileTrust(config.from.map((e) => e.replace(/^\[|\]$/g, '')))
  const emit = server.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean
  // Node emits 'connection' from the listening handle; taking the event at emit() catches every
  // listener, whenever it was added, and hands them the socket once its header has been read.
  server.emit = function emitAfterHeader(this: Server, event: string | symbol, ...args: unknown[]) {
    if (event !== 'connection') return emit.call(this, event, ...args)
    const socket = args[0] as Socket
    readHeader(
      socket,
      trusted(socket.remoteAddress ?? '', 0),
      config.timeoutMs,
      server instanceof TlsServer,
      {
        accept: () => emit.call(server, 'connection', socket),
        refuse: (reason, detail) => {
          log.warn(
            { event: 'proxy-protocol', remote: socket.remoteAddress, reason, detail },
            `PROXY protocol: connection refused (${detail})`,
          )
          socket.destroy()
        },
      },
    )
    return true
  } as typeof server.emit
  // A TLS listener wraps the socket in a TLSSocket, whose address getters ask the TCP handle again:
  // it takes the header's address from its parent before HTTP (1.1 or 2) sees it.
  server.prependListener('secureConnection', (tlsSocket: Socket) => {
    const parent = tlsParent(tlsSocket)
    if (parent !== undefined && proxied.has(parent))
      setPeer(tlsSocket, parent.remoteAddress!, parent.remotePort!, parent.remoteFamily!)
  })
}

// Sockets whose peer a PROXY header replaced.
const proxied = new WeakSet<Socket>()

function setPeer(socket: Socket, address: string, port: number, family: string): void {
  // The getters on net.Socket's prototype ask the kernel; own properties shadow them for this socket.
  Object.defineProperty(socket, 'remoteAddress', { value: address, configurable: true })
  Object.defineProperty(socket, 'remotePort', { value: port, configurable: true })
  Object.defineProperty(socket, 'remoteFamily', { value: family, configurable: true })
  proxied.add(socket)
}

function readHeader(
  socket: Socket,
  listed: boolean,
  timeoutMs: number,
  tls: boolean,
  then: { accept(): void; refuse(reason: ProxyRefusal, detail: string): void },
): void {
  let buf: Buffer = Buffer.alloc(0)
  let settled = false
  const cleanup = () => {
    settled = true
    clearTimeout(timer)
    socket.removeListener('data', onData)
    socket.removeListener('error', onGone)
    socket.removeListener('end', onGone)
    socket.removeListener('close', onGone)
  }
  const accept = (rest: Buffer) => {
    // Paused before the 'data' listener goes, so nothing is emitted to nobody; the bytes after the
    // header go back for the HTTP parser, which reads them before anything newer from the socket.
    socket.pause()
    cleanup()
    if (rest.length > 0) socket.unshift(rest)
    then.accept()
    // HTTP's parser reads the socket's handle itself and needs the stream flowing for the bytes put
    // back; a TLSSocket reads what is buffered on its own (next tick), and flowing would drop it.
    if (!tls) socket.resume()
  }
  const refuse = (reason: ProxyRefusal, detail: string) => {
    cleanup()
    then.refuse(reason, detail)
  }
  const onGone = () => {
    if (settled) return
    cleanup()
    socket.destroy()
  }
  const onData = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    if (!listed) {
      const kind = looksLikeProxyHeader(buf)
      if (kind === 'yes') refuse('untrusted', 'a PROXY header from a source not in proxyProtocol.from')
      else if (kind === 'no') accept(buf)
      return
    }
    try {
      const header = parseProxyHeader(buf)
      if (!header.complete) return
      const a = header.addresses
      if (a !== null) setPeer(socket, a.source.address, a.source.port, a.source.family)
      accept(buf.subarray(header.length))
    } catch (err) {
      if (!(err instanceof ProxyHeaderError)) throw err
      if (looksLikeProxyHeader(buf) === 'no')
        refuse('missing', 'no PROXY header from a source in proxyProtocol.from')
      else refuse('invalid', err.message)
    }
  }
  const timer = setTimeout(() => {
    // A client outside the list that has sent a few bytes that could begin a header ("P" of a POST, or
    // nothing yet) goes on to HTTP, whose own timeouts apply; a listed peer must have sent its header.
    if (!listed) accept(buf)
    else refuse('timeout', `no complete PROXY header within ${timeoutMs} ms`)
  }, timeoutMs)
  timer.unref()
  socket.on('data', onData)
  socket.on('error', onGone)
  socket.on('end', onGone)
  socket.on('close', onGone)
}
