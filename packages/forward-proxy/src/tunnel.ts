import { type IncomingMessage, ServerResponse } from 'node:http'
import type net from 'node:net'
import {
  CONNECT_PATH,
  ForbiddenError,
  kOriginalTarget,
  LoopDetectedError,
  NotImplementedError,
  type ProxyError,
  requestHost,
  sendError,
  UpstreamConnectTimeoutError,
  viaHasLoop,
} from '@proxykit/core'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { upstreamError } from './forward.js'
import { checkThroughParent, recordRefusal, resolveDestination } from './guard.js'
import type { ResolvedOptions } from './options.js'
import { dialThroughParent } from './parent.js'
import { connectDirect, splice } from './splice.js'

const noop = () => {}
const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n'

/** Open client sockets of CONNECT requests, from arrival to close: destroyed when the server closes. */
export type TunnelSet = Set<net.Socket>

/**
 * Brings CONNECT into Fastify's lifecycle (Node emits it as `'connect'` and never routes it): the
 * authority is kept on `req[kOriginalTarget]` (core classifies from it), `req.url` becomes CONNECT_PATH,
 * and the request is routed like any other with a ServerResponse on its socket, so every `onRequest`
 * hook (access control, rate limits) answers tunnels too. Whatever the route answers without tunnelling
 * (403, 407, 429 …) ends the connection.
 */
export function bridgeConnect(fastify: FastifyInstance, tunnels: TunnelSet): void {
  const server = fastify.server
  server.on('connect', (req: IncomingMessage, stream: net.Socket | ServerResponse, head?: Buffer) => {
    // On an HTTP/2 server Node emits an HTTP/2 CONNECT stream here as (request, response): there is no
    // socket to splice, so it is routed like any request and openTunnel answers it 501.
    if (head === undefined) {
      ;(req as IncomingMessage & { [kOriginalTarget]?: string })[kOriginalTarget] = requestHost(req) ?? ''
      req.url = CONNECT_PATH
      fastify.routing(req, stream as ServerResponse)
      return
    }
    const socket = stream as net.Socket
    socket.on('error', noop)
    tunnels.add(socket)
    socket.once('close', () => tunnels.delete(socket))
    const r = req as IncomingMessage & { [kOriginalTarget]?: string }
    r[kOriginalTarget] = req.url ?? ''
    req.url = CONNECT_PATH
    if (head.length > 0) socket.unshift(head)
    const res = new ServerResponse(req)
    res.shouldKeepAlive = false
    res.assignSocket(socket)
    // An answer that is not a tunnel (an error, a denial) closes the connection once written.
    res.once('finish', () => {
      res.detachSocket(socket)
      socket.end()
    })
    fastify.routing(req, res)
  })
}

function dialDirect(address: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectDirect(address, port)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new UpstreamConnectTimeoutError(`connecting to ${address}:${port} took too long`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeListener('error', onError)
      resolve(socket)
    })
    const onError = (err: Error) => {
      clearTimeout(timer)
      reject(err)
    }
    socket.once('error', onError)
  })
}

export interface TunnelContext {
  opts: ResolvedOptions
}

/**
 * The CONNECT route's handler (it runs after every onRequest and preHandler hook): checks the port
 * policy, loops and the destination, dials (directly to the checked address, or through the parent
 * proxy), answers `200 Connection Established` and splices the two sockets.
 */
export async function openTunnel(this: TunnelContext, request: FastifyRequest, reply: FastifyReply) {
  const ctx = request.proxy
  const { opts } = this
  if (ctx.form !== 'authority' || ctx.target === null) return reply.callNotFound()
  const target = ctx.target
  ctx.direction = 'forward'
  // Until the tunnel is up, a refusal is an ordinary reply through Fastify's error handler. Returning the
  // reply tells Fastify it is being answered: an async error handler may still be running.
  const refuse = (err: ProxyError) => {
    sendError(reply, err)
    return reply
  }
  // A tunnel here is two spliced TCP sockets; an HTTP/2 CONNECT (RFC 9113 §8.5) is a stream of a
  // multiplexed connection, which this design does not relay.
  if (request.raw.httpVersionMajor === 2)
    return refuse(new NotImplementedError('CONNECT over HTTP/2; send tunnels over HTTP/1.1'))
  if (!opts.connectPorts.has(target.port)) {
    recordRefusal(request, 'forward.connectPorts')
    return refuse(new ForbiddenError(`CONNECT to port ${target.port} is not allowed`))
  }
  if (viaHasLoop(request.raw.headers.via, opts.pseudonym))
    return refuse(new LoopDetectedError(`Via already names ${opts.pseudonym}`))

  let dial: () => Promise<net.Socket>
  if (opts.parent !== null) {
    // The parent resolves names and connects; the address rules are still checked here (guard.ts).
    const refused = await checkThroughParent(target, request, opts)
    if (refused !== null) return refuse(refused)
    const parent = opts.parent
    dial = () => dialThroughParent(parent, target.authority, opts.connectTimeout)
  } else {
    const dest = await resolveDestination(target, request, opts)
    if (dest instanceof Error) return refuse(dest)
    dial = () => dialDirect(dest.address, target.port, opts.connectTimeout)
  }
  ctx.upstream = { url: target.authority, attempts: 1 }

  const res = reply.raw
  const client = request.raw.socket
  let upstream: net.Socket
  try {
    upstream = await dial()
  } catch (err) {
    if (client.destroyed) return
    return refuse(upstreamError(err, target.authority))
  }
  // The tunnel is up: from here on the socket is ours, not Fastify's.
  reply.hijack()
  if (client.destroyed) {
    upstream.destroy()
    return
  }
  res.detachSocket(client)
  client.write(ESTABLISHED)
  splice(client, upstream, opts.tunnelIdleTimeout)
}
