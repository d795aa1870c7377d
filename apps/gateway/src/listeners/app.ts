import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify'
import type { Logger } from 'pino'
import { CLIENT_CLOSED_STATUS, observeRequests, type RequestEnd } from '../access-log.js'
import type { ListenAddress } from '../config/types.js'
import { listenUrl } from '../config/units.js'
import type { GatewayMetrics, ListenerName } from '../metrics.js'

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
}

/** A Fastify instance for one listener, with the access log, request metrics and socket tracking. */
export function createListener(options: ListenerAppOptions): Listener {
  const app = Fastify({
    loggerInstance: options.logger.child({ listener: options.name }) as FastifyBaseLogger,
    // One access line per request comes from access-log.ts instead of Fastify's own two.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    trustProxy: options.trustProxy ?? false,
    forceCloseConnections: 'idle',
  })
  const sockets = new Set<Socket>()
  // The peer's address, read while the socket is open: a client error or a late log line may come after
  // the socket is gone, when Node no longer knows it.
  const remotes = new WeakMap<Socket, string | undefined>()
  // The request in progress on each socket, so that a client error on it ends that request's line
  // instead of adding a second, 'malformed' one.
  const current = new WeakMap<Socket, FastifyRequest>()
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    remotes.set(socket, socket.remoteAddress)
    socket.once('close', () => sockets.delete(socket))
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
  app.addHook('onRequest', (request, reply, done) => {
    listener.inFlight++
    let finished = false
    const end = () => {
      if (finished) return
      finished = true
      if (--listener.inFlight === 0) for (const w of waiters.splice(0)) w()
    }
    const socket = request.raw.socket
    current.set(socket, request)
    // A tunnel's response never finishes: it lasts as long as the client's socket.
    if (request.raw.method === 'CONNECT') socket.once('close', end)
    else
      reply.raw.once('close', () => {
        end()
        if (current.get(socket) === request) current.delete(socket)
      })
    done()
  })
  // Node keeps a keep-alive connection open after its response even while the server closes: end it, so
  // that a shutdown does not wait for idle clients.
  app.addHook('onResponse', (request, _reply, done) => {
    if (listener.closing && request.raw.method !== 'CONNECT') request.raw.socket?.end()
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
          remote: remotes.get(socket) ?? socket.remoteAddress,
          end,
          error: err.code,
        },
        'access',
      )
    }
  })
  // Node emits CONNECT as 'connect' and, with no listener, closes the connection without a word. Only the
  // forward proxy tunnels; anywhere else the answer is 405 (RFC 9110 §15.5.6), logged and counted.
  app.server.on('connect', (req: IncomingMessage, socket: Socket) => {
    if (app.server.listenerCount('connect') > 1) return // the forward proxy's own listener answers
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
          remote: remotes.get(socket) ?? socket.remoteAddress,
          end: 'complete',
        },
        'access',
      )
    }
  })
  observeRequests(app, {
    listener: options.name,
    metrics: options.metrics,
    accessLog: options.accessLog,
    routeOf: options.routeOf,
  })
  return listener
}

/** Starts listening and records the address actually bound (port 0 becomes the OS's choice). */
export async function listen(listener: Listener, address: ListenAddress): Promise<void> {
  await listener.app.listen({ host: address.host, port: address.port })
  const bound = listener.app.server.address()
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port
  listener.address = { host: address.host, port }
  listener.url = listenUrl(address.host, port)
}
