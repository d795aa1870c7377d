// Over ~300 lines for a reason: one listener's Fastify instance and its sockets (client timeouts, limits
// per client, PROXY protocol, TLS, the request each socket is serving), whose hooks share the socket
// bookkeeping kept in createListener's closure; that function is the next one to split (issue 25 note).
import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import { compileTrust, NotImplementedError, phaseHook, sendError } from '@proxykit/core'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify'
import type { Logger } from 'pino'
import { CLIENT_CLOSED_STATUS, observeRequests, type RequestEnd } from '../access-log.js'
import type { ClientTimeouts, ListenAddress, ProxyProtocolConfig } from '../config/types.js'
import { listenUrl } from '../config/units.js'
import { lazyChildLogger } from '../lazy-logger.js'
import type { GatewayMetrics, ListenerName } from '../metrics.js'
import { type CertStore, serverTlsOptions } from '../tls/certs.js'
import { acceptProxyProtocol } from './proxy-accept.js'

/** One of the gateway's three listeners: its own Fastify instance and the sockets it holds. */
export interface Listener {
  name: ListenerName
  app: FastifyInstance
  /** Every socket open on this listener, tunnels included: what a shutdown cuts after the grace period. */
  sockets: Set<Socket>
  /** Set once listening: the bound address and the URL clients use. */
  address: ListenAddress
  url: string
  /** Set when shutdown starts: connections are closed after their response instead of kept alive. */
  closing: boolean
  /** Requests not finished yet, CONNECT tunnels included (a tunnel ends when its socket closes). */
  inFlight: number
  /** Resolves when `inFlight` is 0. */
  idle(): Promise<void>
}

export interface ListenerAppOptions {
  name: ListenerName
  logger: Logger
  metrics: GatewayMetrics
  accessLog: boolean
  routeOf: Parameters<typeof observeRequests>[1]['routeOf']
  /** Fastify's `trustProxy`: whose X-Forwarded-For decides `request.ip`. */
  trustProxy?: boolean | string[]
  /** Slow-client limits (default: the config's defaults, 10 s / 30 s / 60 s). */
  clientTimeouts?: ClientTimeouts
  /** Open connections per client address; 0: no cap (default 256). */
  maxConnectionsPerClient?: number
  /** Read a PROXY protocol header first on every connection (null: none). */
  proxyProtocol?: ProxyProtocolConfig | null
  /** Largest request head in bytes (Node's maxHeaderSize, 16 KiB by default): 431 over it. */
  maxHeaderSize?: number
  /** Answer CONNECT with 405 (every listener but the forward proxy's, whose plugin tunnels it). */
  refuseConnect?: boolean
  /**
   * HTTPS: the certificates (swappable, see tls/certs.ts) and whether HTTP/2 is offered by ALPN beside
   * HTTP/1.1 on the same port.
   */
  tls?: { store: CertStore; http2: boolean }
}

export const DEFAULT_CLIENT_TIMEOUTS: ClientTimeouts = { headerMs: 10_000, bodyMs: 30_000, idleMs: 60_000 }
export const DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 256

// Per socket, whichever generation of a listener (hot reload) served it: the front's 'clientError'
// handler sees the sockets of every generation.
// The peer's address needs no table of its own for a client error that comes after the socket is gone:
// net.Socket keeps what getpeername() said once asked, and the 'connection' listener below asks at once.
// The request in progress on each socket, so that a client error on it ends that request's line instead
// of adding a second, 'malformed' one.
const current = new WeakMap<Socket, FastifyRequest>()
// The reply of a response, for the one 'close' listener every response shares.
const kReply = Symbol('proxykit.gateway.reply')

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0')
}

/**
 * Cuts a client that stops sending its request body for `ms` (nginx's client_body_timeout): the request
 * is logged 408 `timeout` and the connection closed. Time during which the body is not being read (the
 * proxy waiting on a slow upstream, so the client cannot send) does not count: only the client's own
 * silence does. Sampled on a timer rather than per chunk, which would need a 'data' listener.
 */
function watchBody(request: FastifyRequest, ms: number): void {
  const req = request.raw
  const socket = req.socket
  let read = socket.bytesRead
  let since = performance.now()
  const timer = setInterval(
    () => {
      if (req.complete || socket.destroyed) return clearInterval(timer)
      const now = performance.now()
      if (socket.bytesRead !== read || req.readableLength > 0 || req.isPaused()) {
        read = socket.bytesRead
        since = now
        return
      }
      if (now - since < ms) return
      clearInterval(timer)
      request.gatewayEnd = { status: 408, end: 'timeout' }
      socket.destroy()
    },
    Math.min(1000, Math.max(20, ms / 4)),
  )
  timer.unref()
  req.once('end', () => clearInterval(timer))
  req.once('close', () => clearInterval(timer))
}

/** A Fastify instance for one listener, with the access log, request metrics and socket tracking. */
export function createListener(options: ListenerAppOptions): Listener {
  const timeouts = options.clientTimeouts ?? DEFAULT_CLIENT_TIMEOUTS
  // Node's headersTimeout covers a connection's head from its first byte (or the previous response),
  // silent connections included; it answers 408. Its check runs every connectionsCheckingInterval
  // (30 s by default, which let slowloris sockets live that long past a shorter timeout).
  const http1 = {
    headersTimeout: timeouts.headerMs,
    // No limit on a whole request (an upload may take long); the body's silence is limited instead.
    requestTimeout: 0,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(timeouts.headerMs / 4))),
    ...(options.maxHeaderSize === undefined ? {} : { maxHeaderSize: options.maxHeaderSize }),
  }
  const tls = options.tls ?? null
  const server =
    tls === null
      ? { http: http1 }
      : tls.http2
        ? {
            http2: true as const,
            https: { ...serverTlsOptions(tls.store), allowHTTP1: true },
            // An idle HTTP/2 connection is closed (GOAWAY) after the keep-alive time, as an HTTP/1.1 one.
            http2SessionTimeout: timeouts.idleMs,
          }
        : // https.createServer takes http.createServer's options too (Fastify passes only `https` on).
          { https: { ...serverTlsOptions(tls.store), ...http1 } }
  // One options object for three server kinds: Fastify's overloads type each apart; the listener's code
  // reads requests through the HTTP/1.1 types (HTTP/2's compat request and response share them).
  const app = (Fastify as unknown as (o: object) => FastifyInstance)({
    loggerInstance: options.logger.child({ listener: options.name }) as FastifyBaseLogger,
    // One access line per request comes from access-log.ts instead of Fastify's own two.
    logController: new LogController({ disableRequestLogging: true }),
    // request.log becomes a pino child only if something logs through it (most requests never do).
    childLoggerFactory: lazyChildLogger,
    return503OnClosing: true,
    trustProxy: options.trustProxy ?? false,
    forceCloseConnections: 'idle',
    keepAliveTimeout: timeouts.idleMs,
    ...server,
  })
  if (tls?.http2 === true) {
    // HTTP/1.1 on an HTTP/2 server (allowHTTP1) runs Node's HTTP/1.1 connection handling with fixed
    // timeouts (60 s heads, 300 s requests) and no keep-alive limit: the same limits as a plain listener.
    Object.assign(app.server, http1, { keepAliveTimeout: timeouts.idleMs })
  }
  // A method Node's parser accepts but that nothing here routes (M-SEARCH, PURGE, LINK …) is 501 (RFC 9110
  // §15.6.2), not Fastify's 404 for a path; a known method on an unknown path keeps Fastify's own 404.
  app.setNotFoundHandler((request, reply) => {
    const method = request.raw.method ?? ''
    if (!app.supportedMethods.includes(method))
      return sendError(reply, new NotImplementedError(`${method} is not supported here`))
    reply
      .code(404)
      .send({ message: `Route ${method}:${request.url} not found`, error: 'Not Found', statusCode: 404 })
  })
  if (options.proxyProtocol != null) acceptProxyProtocol(app.server, options.proxyProtocol, app.log)
  const sockets = new Set<Socket>()
  const maxPerClient = options.maxConnectionsPerClient ?? DEFAULT_MAX_CONNECTIONS_PER_CLIENT
  // Peers trusted as load balancers carry many clients on one address: never capped.
  const trusted = maxPerClient === 0 ? null : compileTrust(options.trustProxy ?? false)
  const perClient = new Map<string, number>()
  // Addresses over the cap: logged once when they reach it and once when they are back under it.
  const overCap = new Map<string, number>()
  // One listener function for every socket (`this` is the socket), not two closures and once-wrappers
  // each: an idle keep-alive connection costs what it holds, and these were most of what the gateway
  // added to Node's own. Whether the socket was counted is decided again, as on 'connection'.
  function onSocketClose(this: Socket): void {
    sockets.delete(this)
    const remote = this.remoteAddress
    if (trusted === null || remote === undefined || trusted(remote, 0)) return
    const left = (perClient.get(remote) ?? 1) - 1
    if (left > 0) perClient.set(remote, left)
    else perClient.delete(remote)
    const refused = overCap.get(remote)
    if (refused !== undefined && left < maxPerClient) {
      overCap.delete(remote)
      app.log.info({ remote, refused }, 'client back under maxConnectionsPerClient')
    }
  }
  app.server.on('connection', (socket: Socket) => {
    const remote = socket.remoteAddress
    if (trusted !== null && remote !== undefined && !trusted(remote, 0)) {
      const open = perClient.get(remote) ?? 0
      if (open >= maxPerClient) {
        const refused = overCap.get(remote)
        if (refused === undefined)
          app.log.warn(
            { remote, maxConnectionsPerClient: maxPerClient },
            'client at maxConnectionsPerClient: further connections are closed',
          )
        overCap.set(remote, (refused ?? 0) + 1)
        socket.destroy()
        return
      }
      perClient.set(remote, open + 1)
    }
    sockets.add(socket)
    socket.on('close', onSocketClose)
  })
  const listener: Listener = {
    name: options.name,
    app,
    sockets,
    address: { host: '', port: 0 },
    url: '',
    closing: false,
    inFlight: 0,
    idle() {
      if (listener.inFlight === 0) return Promise.resolve()
      return new Promise((resolve) => waiters.push(resolve))
    },
  }
  const waiters: Array<() => void> = []
  const requestEnded = (): void => {
    if (--listener.inFlight === 0) for (const w of waiters.splice(0)) w()
  }
  const observer = observeRequests(app, {
    listener: options.name,
    metrics: options.metrics,
    accessLog: options.accessLog,
    routeOf: options.routeOf,
  })
  // One 'close' listener shared by every response (`this` is the response, which emits 'close' once),
  // instead of a closure and a once-wrapper per request: with a thousand HTTP/2 streams in flight, what
  // each request holds until its response ends is what the young generation's collections copy. The
  // access log's end of a request that never finished is in it too (one listener per response, not two).
  function onResponseClose(this: ServerResponse & { [kReply]?: FastifyReply }): void {
    requestEnded()
    const req = this.req
    // HTTP/1.1 only: an HTTP/2 request's socket stands for its stream, never seen by 'clientError'.
    if (req.httpVersionMajor !== 2 && current.get(req.socket)?.raw === req) current.delete(req.socket)
    const reply = this[kReply]
    if (reply !== undefined) observer.closed(reply.request, reply)
  }
  // One onRequest and one onResponse hook for the listener's bookkeeping, the metrics and the access
  // log: Fastify runs each hook through its hook runner, per request.
  app.addHook('onRequest', (request, reply, done) => {
    listener.inFlight++
    const raw = request.raw
    if (raw.httpVersionMajor !== 2) current.set(raw.socket, request)
    if (timeouts.bodyMs > 0 && !raw.complete && hasBody(raw)) watchBody(request, timeouts.bodyMs)
    observer.started(request, reply)
    // A tunnel's response never finishes: it lasts as long as the client's socket.
    if (raw.method === 'CONNECT') raw.socket.once('close', requestEnded)
    else {
      ;(reply.raw as ServerResponse & { [kReply]?: FastifyReply })[kReply] = reply
      reply.raw.on('close', onResponseClose)
    }
    done()
  })
  app.addHook(phaseHook('log', 'gateway'), (request: FastifyRequest, reply: FastifyReply, done) => {
    // Node keeps a keep-alive connection open after its response even while the server closes: end it,
    // so that a shutdown does not wait for idle clients.
    if (listener.closing && request.raw.method !== 'CONNECT') {
      // On HTTP/2 the request's socket stands for its stream: the connection is the session, which
      // closes gracefully (GOAWAY: streams in progress finish, no new ones start).
      const stream = (request.raw as unknown as { stream?: { session?: { close(): void } } }).stream
      if (request.raw.httpVersionMajor === 2) stream?.session?.close()
      else request.raw.socket?.end()
    }
    observer.finished(request, reply)
    done()
  })
  // Requests Node's parser refuses (smuggling shapes, oversized heads, slow clients) never reach Fastify's
  // hooks; Fastify answers them (400, 431, 408) and they get an access line and a count here. Prepended,
  // so that this runs before Fastify's handler writes its answer and destroys the socket.
  app.server.prependListener('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const request = current.get(socket)
    // The client went away: a reset, or its FIN in the middle of a head or a body (the parser's EOF
    // error). Nothing is answered (Fastify leaves a destroyed socket alone), and it is not 'malformed'.
    const gone =
      err.code === 'ECONNRESET' ||
      err.code === 'HPE_INVALID_EOF_STATE' ||
      socket.destroyed ||
      !socket.writable
    if (gone) {
      socket.destroy()
      // A request already routed (its body was being read) is logged by its own line, as it ends.
      if (request !== undefined) {
        request.gatewayEnd = { status: CLIENT_CLOSED_STATUS, end: 'client-closed' }
        return
      }
      // A reset between requests is not a request.
      if (err.code === 'ECONNRESET') return
    }
    const status = gone
      ? CLIENT_CLOSED_STATUS
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? 431
          : 400
    const end: RequestEnd = gone ? 'client-closed' : status === 408 ? 'timeout' : 'malformed'
    if (request !== undefined) {
      request.gatewayEnd = { status, end }
      return
    }
    const route = gone ? 'incomplete' : 'malformed'
    options.metrics.requests.inc({ listener: options.name, route, status })
    if (options.accessLog) {
      app.log.info(
        {
          method: null,
          target: null,
          route,
          status,
          remote: socket.remoteAddress,
          end,
          error: err.code,
        },
        'access',
      )
    }
  })
  // Node emits CONNECT as 'connect' and, with no listener, closes the connection without a word. Only the
  // forward proxy tunnels; anywhere else the answer is 405 (RFC 9110 §15.5.6), logged and counted.
  if (options.refuseConnect === true)
    app.server.on('connect', (req: IncomingMessage, socket: Socket) => {
      socket.on('error', () => socket.destroy())
      const res = new ServerResponse(req)
      res.assignSocket(socket)
      res.once('finish', () => socket.end())
      const body = 'Method not allowed: CONNECT is for forward proxies\n'
      res.writeHead(405, {
        allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      })
      res.end(body)
      options.metrics.requests.inc({ listener: options.name, route: 'connect', status: 405 })
      if (options.accessLog) {
        app.log.info(
          {
            method: 'CONNECT',
            target: req.url ?? null,
            route: 'connect',
            status: 405,
            remote: socket.remoteAddress,
            end: 'complete',
          },
          'access',
        )
      }
    })
  return listener
}

/** Starts listening and records the address actually bound (port 0 becomes the OS's choice). */
export async function listen(listener: Listener, address: ListenAddress): Promise<void> {
  await listener.app.listen({ host: address.host, port: address.port })
  const bound = listener.app.server.address()
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port
  listener.address = { host: address.host, port }
  listener.url = listenUrl(address.host, port, listener.app.server instanceof TlsServer ? 'https' : 'http')
}
