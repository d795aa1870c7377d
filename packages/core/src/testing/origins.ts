import { once } from 'node:events'
import http from 'node:http'
import https from 'node:https'
import net, { type AddressInfo } from 'node:net'
import { selfSignedCertificate } from './tls.js'

/** A request an origin received, as it saw it. */
export interface ReceivedRequest {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  rawHeaders: string[]
  body: Buffer
  remoteAddress: string
}

export interface Origin {
  /** `http://127.0.0.1:PORT` (or https). */
  url: string
  port: number
  host: string
  /** Every request received so far, in order. */
  requests: ReceivedRequest[]
  /** How many requests arrived (the hit counter cache tests use). */
  readonly hits: number
  /** Sockets currently open to this origin. */
  readonly openSockets: number
  server: http.Server | https.Server
  close(): Promise<void>
}

/**
 * Answers one request. Whatever it returns is awaited and then ignored, so `(_req, res) => res.end('ok')`
 * (which returns the response) is a handler under strict type checking too.
 */
export type OriginHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => unknown

export interface OriginOptions {
  /** Address to bind; loopback only (default 127.0.0.1). */
  host?: string
  /** Answer each request; the default echoes method, url and headers as JSON. */
  handler?: OriginHandler
  /** Do not read the body into `requests` (for large streamed bodies: the handler consumes `req`). */
  streaming?: boolean
}

const echo: OriginHandler = (req, res, body) => {
  const json = JSON.stringify({
    method: req.method,
    url: req.url,
    headers: req.headers,
    body: body.toString(),
  })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
  res.end(json)
}

function track(
  server: http.Server | https.Server,
  options: OriginOptions,
): Omit<Origin, 'url' | 'port' | 'host'> {
  const requests: ReceivedRequest[] = []
  const sockets = new Set<net.Socket>()
  server.on('connection', (s: net.Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const handler = options.handler ?? echo
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const record: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
      remoteAddress: req.socket.remoteAddress ?? '',
    }
    requests.push(record)
    const run = async (body: Buffer) => {
      try {
        await handler(req, res, body)
      } catch (err) {
        res.destroy(err as Error)
      }
    }
    if (options.streaming === true) {
      void run(Buffer.alloc(0))
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      record.body = Buffer.concat(chunks)
      void run(record.body)
    })
    req.on('error', () => {})
  })
  return {
    requests,
    get hits() {
      return requests.length
    },
    get openSockets() {
      return sockets.size
    },
    server,
    async close() {
      for (const s of sockets) s.destroy()
      server.closeAllConnections?.()
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function listen(server: net.Server, host: string): Promise<number> {
  server.listen(0, host)
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/** An HTTP origin on a loopback port chosen by the OS. */
export async function startOrigin(options: OriginOptions = {}): Promise<Origin> {
  const host = options.host ?? '127.0.0.1'
  const server = http.createServer()
  const t = track(server, options)
  const port = await listen(server, host)
  return Object.assign(t, { url: `http://${urlHost(host)}:${port}`, port, host }) as Origin
}

/** An HTTPS origin with a freshly generated self-signed certificate for localhost and 127.0.0.1. */
export async function startTlsOrigin(options: OriginOptions = {}): Promise<Origin & { cert: string }> {
  const host = options.host ?? '127.0.0.1'
  const { key, cert } = await selfSignedCertificate()
  const server = https.createServer({ key, cert })
  const t = track(server, options)
  const port = await listen(server, host)
  return Object.assign(t, { url: `https://${urlHost(host)}:${port}`, port, host, cert }) as Origin & {
    cert: string
  }
}

export interface TcpOrigin {
  port: number
  host: string
  /** Bytes received per connection, in order of arrival. */
  received: Buffer[][]
  readonly connections: number
  server: net.Server
  close(): Promise<void>
}

/**
 * A raw TCP server: `onConnection` gets each socket (default: echo every byte back). Records the exact
 * bytes received, for smuggling and tunnel tests.
 */
export async function startTcpOrigin(
  onConnection?: (socket: net.Socket, received: Buffer[]) => void,
  host = '127.0.0.1',
): Promise<TcpOrigin> {
  const received: Buffer[][] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    const mine: Buffer[] = []
    received.push(mine)
    socket.on('data', (c: Buffer) => mine.push(c))
    if (onConnection) onConnection(socket, mine)
    else socket.pipe(socket)
  })
  const port = await listen(server, host)
  return {
    port,
    host,
    received,
    get connections() {
      return received.length
    },
    server,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
