import type { Socket } from 'node:net'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { Logger } from 'pino'
import { observeRequests } from '../access-log.js'
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
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket)
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
    // A tunnel's response never finishes: it lasts as long as the client's socket.
    if (request.raw.method === 'CONNECT') request.raw.socket.once('close', end)
    else reply.raw.once('close', end)
    done()
  })
  // Node keeps a keep-alive connection open after its response even while the server closes: end it, so
  // that a shutdown does not wait for idle clients.
  app.addHook('onResponse', (request, _reply, done) => {
    if (listener.closing && request.raw.method !== 'CONNECT') request.raw.socket?.end()
    done()
  })
  // Requests Node's parser refuses (smuggling shapes, oversized heads, slow clients) never reach Fastify's
  // hooks; Fastify answers them (400, 431, 408) and they get an access line and a count here.
  app.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET') return
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
    options.metrics.requests.inc({ listener: options.name, route: 'malformed', status })
    if (options.accessLog) {
      app.log.info(
        {
          method: null,
          target: null,
          route: 'malformed',
          status,
          remote: socket.remoteAddress,
          error: err.code,
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
