// Over ~300 lines for a reason: one upgrade exchange, start to finish (dial, request head, the upstream's
// answer, then the tunnel or the refused answer's body), as one class whose steps share its socket state.
import type { IncomingMessage } from 'node:http'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import tls from 'node:tls'
import {
  BadRequestError,
  BY_LENGTH,
  blamesUpstream,
  CHUNKED,
  CHUNKED_ERROR,
  CHUNKED_MORE,
  ChunkedDecoder,
  type Framing,
  type HeadRead,
  NO_BODY,
  type ProxyError,
  type RequestHead,
  ResponseHeadReader,
  requestHead,
  ServiceUnavailableError,
  sendError,
  UpstreamBadRequestError,
  UpstreamBadResponseError,
  UpstreamClosedError,
  UpstreamConnectTimeoutError,
  type UpstreamFailure,
  UpstreamHeadersTimeoutError,
  upstreamFailure,
} from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type HeaderSettings, requestHeaders } from './headers.js'
import { websocketHead } from './internals.js'
import { escapesPrefix, failureAnswer, upstreamPath } from './proxy.js'
import type { ProxyRoute } from './route.js'
import type { Upstream } from './upstream.js'

/** Where our own 'upgrade' listener keeps the bytes that arrived after the request head. */
export const kUpgradeHead = Symbol('proxykit.upgradeHead')

const MAX_HEAD = 64 * 1024
const CLOSE = { connection: 'close' }

/** Bytes the client sent after its request head: ours, or the ones @fastify/websocket kept. */
function upgradeHead(req: IncomingMessage): Buffer | null {
  const r = req as IncomingMessage & Record<symbol, unknown>
  const own = r[kUpgradeHead]
  if (Buffer.isBuffer(own)) return own.length === 0 ? null : own
  const theirs = websocketHead(req)
  return theirs === undefined || theirs.length === 0 ? null : theirs
}

/**
 * Why this upgrade is refused before any upstream is asked, or null. `Upgrade: h2c` is refused: a
 * cleartext HTTP/2 tunnel would carry requests past this proxy's routing and every hook (the "h2c
 * smuggling" attack).
 */
function refusedUpgrade(req: IncomingMessage): ProxyError | null {
  const escaped = escapesPrefix(req.url ?? '/')
  if (escaped !== null) return escaped
  const protocols = String(req.headers.upgrade ?? '')
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
  if (protocols.includes('h2c'))
    return new BadRequestError('Upgrade: h2c is not supported through this proxy')
  return null
}

/** The request head for the upstream, by core's writer (every name a token, no CR/LF in a value). */
function upgradeRequestHead(
  request: FastifyRequest,
  route: ProxyRoute,
  settings: HeaderSettings,
  upstream: Upstream,
): RequestHead | string {
  const req = request.raw
  const headers = requestHeaders(request, route.options, settings, true)
  headers.host =
    route.options.preserveHost && req.headers.host !== undefined ? req.headers.host : upstream.authority
  return requestHead(req.method ?? 'GET', upstreamPath(request, route), headers, upstream.authority, false)
}

function dial(upstream: Upstream, route: ProxyRoute): net.Socket {
  if (!upstream.secure) return net.connect(upstream.port, upstream.hostname)
  return tls.connect({
    host: upstream.hostname,
    port: upstream.port,
    servername: net.isIP(upstream.hostname) === 0 ? upstream.hostname : undefined,
    ALPNProtocols: ['http/1.1'],
    ...(route.options.tls ?? {}),
  })
}

/**
 * Proxies a request that arrived through the server's 'upgrade' event (WebSocket or any other protocol):
 * after the request went through Fastify's hooks like any other, it is sent to a balanced, healthy
 * upstream over a fresh connection; the upstream's answer is read by core's response-head parser and,
 * after a 101, both sockets are piped together until either side closes, which closes the other. A
 * failure before the answer is core's `PK_UPSTREAM` family, answered as `proxyRequest` answers it.
 */
export function proxyUpgrade(
  route: ProxyRoute,
  settings: HeaderSettings,
  tunnels: Set<Duplex>,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  request.proxy.direction = 'reverse'
  // Not hijacked until the upstream answers: a refusal before that is an ordinary reply through Fastify's
  // error handler (the bridge ends the connection after it).
  const refused = refusedUpgrade(request.raw)
  if (refused !== null) {
    sendError(reply, refused, CLOSE)
    return
  }
  const upstream = route.pick(request, [])
  if (upstream === null) {
    sendError(reply, new ServiceUnavailableError(`no healthy upstream for route '${route.options.name}'`), {
      'retry-after': String(route.retryAfter()),
      ...CLOSE,
    })
    return
  }
  request.proxy.upstream = { url: upstream.url, attempts: 1 }
  const head = upgradeRequestHead(request, route, settings, upstream)
  if (typeof head === 'string') {
    sendError(reply, failureAnswer(new UpstreamBadRequestError(head), route), CLOSE)
    return
  }
  new UpgradeExchange(route, upstream, tunnels, request, reply).start(head.text)
}

/** One upgrade: the dial, the request head, the upstream's answer, then the tunnel or the refusal. */
class UpgradeExchange {
  private settled = false
  private timer: NodeJS.Timeout | null = null
  private readonly client: Duplex
  private readonly conn: net.Socket
  private readonly seq: number
  private readonly reader: ResponseHeadReader

  constructor(
    private readonly route: ProxyRoute,
    private readonly upstream: Upstream,
    private readonly tunnels: Set<Duplex>,
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
  ) {
    this.client = request.raw.socket
    this.seq = upstream.begin()
    this.reader = new ResponseHeadReader(request.raw.method ?? 'GET', MAX_HEAD)
    this.conn = dial(upstream, route)
  }

  start(head: string): void {
    const timeouts = this.route.options.timeouts
    this.timer = setTimeout(
      () => this.fail(new UpstreamConnectTimeoutError(`no connection within ${timeouts.connect} ms`)),
      timeouts.connect,
    )
    this.conn.on('error', (err) => this.fail(upstreamFailure(err)))
    this.client.once('close', this.onClientClose)
    this.conn.once(this.upstream.secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(this.timer!)
      this.timer = setTimeout(
        () => this.fail(new UpstreamHeadersTimeoutError(`no response head within ${timeouts.headers} ms`)),
        timeouts.headers,
      )
      this.conn.write(head)
      this.conn.on('data', this.onData)
      this.conn.once('end', this.onEnd)
    })
  }

  /** The client giving up before the upstream answered. */
  private readonly onClientClose = (): void => {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer!)
    this.upstream.end()
    this.conn.destroy()
  }

  private readonly onEnd = (): void => this.fail(new UpstreamClosedError('before answering'))

  private readonly onData = (chunk: Buffer): void => {
    const read = this.reader.push(chunk)
    if (read === null) return
    if (read instanceof Error) this.fail(read)
    else this.answered(read)
  }

  /** A failure before the upstream's answer: the reply is still Fastify's, so it answers the error. */
  private fail(failure: UpstreamFailure): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.timer!)
    this.upstream.end()
    this.conn.destroy()
    if (blamesUpstream(failure)) this.route.outcome(this.upstream, this.seq, null)
    sendError(this.reply, failureAnswer(failure, this.route), CLOSE)
  }

  private answered(read: HeadRead): void {
    const { head } = read
    // RFC 9110 §8.6, §6.4.1: a 101 has no content; a framing field on one is an upstream that does not
    // know what it answered, and what follows it would be taken for the new protocol.
    if (
      head.statusCode === 101 &&
      (head.headers['content-length'] !== undefined || head.headers['transfer-encoding'] !== undefined)
    ) {
      this.fail(new UpstreamBadResponseError('a 101 with Content-Length or Transfer-Encoding'))
      return
    }
    if (this.settled) return
    this.conn.removeListener('data', this.onData)
    this.conn.removeListener('end', this.onEnd)
    clearTimeout(this.timer!)
    this.settled = true
    this.client.removeListener('close', this.onClientClose)
    // The upstream answered: what follows is its bytes on the client's socket, no longer a reply.
    this.reply.hijack()
    this.upstream.end()
    this.route.outcome(this.upstream, this.seq, head.statusCode)
    this.tieSockets()
    if (head.statusCode === 101) this.splice(read)
    else this.relayRefusal(read)
  }

  /** Either socket closing closes the other; the tunnel counts until then. */
  private tieSockets(): void {
    const { client, conn, upstream, tunnels } = this
    upstream.tunnels++
    tunnels.add(client)
    const closeBoth = () => {
      if (!client.destroyed) client.destroy()
      if (!conn.destroyed) conn.destroy()
    }
    client.once('close', () => {
      closeBoth()
      tunnels.delete(client)
    })
    conn.once('close', () => {
      upstream.tunnels--
      closeBoth()
    })
    client.on('error', closeBoth)
    ;(client as net.Socket).setTimeout(0)
    ;(client as net.Socket).setNoDelay(true)
    conn.setNoDelay(true)
  }

  /** Switched: the head and what came with it go to the client, the client's early bytes upstream. */
  private splice(read: HeadRead): void {
    const early = upgradeHead(this.request.raw)
    if (early !== null) this.conn.write(early)
    this.client.write(read.bytes)
    this.conn.pipe(this.client)
    this.client.pipe(this.conn)
  }

  /**
   * Refused (no 101): the answer goes back, its body delimited as the parser framed it, and the connection
   * ends with it. Nothing more from the client may reach this raw upstream socket, or a second request
   * would skip routing and every hook ("WebSocket smuggling" through a failed upgrade).
   */
  private relayRefusal(read: HeadRead): void {
    const { client, conn } = this
    const body = new RefusalBody(read.head.framing, read.head.length)
    const first = body.take(read.bytes, read.offset)
    client.write(read.bytes.subarray(0, read.offset + Math.max(first, 0)))
    client.resume() // discard whatever else the client sends
    if (body.done || first === CHUNKED_ERROR) {
      if (first === CHUNKED_ERROR) client.destroy()
      else client.end()
      conn.destroy()
      return
    }
    conn.setTimeout(this.route.options.timeouts.idle, () => {
      client.destroy()
      conn.destroy()
    })
    conn.on('data', (chunk: Buffer) => {
      const n = body.take(chunk, 0)
      if (n === CHUNKED_ERROR) {
        // Part of the answer is already out: the only honest end left is a cut connection.
        client.destroy()
        conn.destroy()
        return
      }
      client.write(n === chunk.length ? chunk : chunk.subarray(0, n))
      if (body.done) {
        client.end()
        conn.destroy()
      }
    })
    conn.once('end', () => client.end())
  }
}

/** Where a refused upgrade's body ends: by its length, its last chunk, or the upstream's close. */
class RefusalBody {
  done: boolean
  private decoder: ChunkedDecoder | null
  private readonly keep = () => true

  constructor(
    private readonly framing: Framing,
    private left: number,
  ) {
    this.done = framing === NO_BODY || (framing === BY_LENGTH && left === 0)
    this.decoder = framing === CHUNKED ? new ChunkedDecoder() : null
  }

  /** How many bytes of `buf` from `start` belong to the body (CHUNKED_ERROR when its coding is broken). */
  take(buf: Buffer, start: number): number {
    const available = buf.length - start
    if (this.done) return 0
    if (this.framing === BY_LENGTH) {
      const n = Math.min(this.left, available)
      this.left -= n
      this.done = this.left === 0
      return n
    }
    if (this.decoder !== null) {
      if (available === 0) return 0
      const end = this.decoder.feed(buf, start, this.keep)
      if (end === CHUNKED_ERROR) return CHUNKED_ERROR
      if (end === CHUNKED_MORE) return available
      this.done = true
      return end - start
    }
    return available
  }
}
