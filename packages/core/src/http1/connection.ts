// Over ~300 lines for a reason: one state machine (connecting, idle, head, body, closed) whose
// transitions share the socket's handlers; the framing, parsing and deadlines it uses are files of their own.
import net from 'node:net'
import tls from 'node:tls'
import {
  UpstreamBadRequestError,
  UpstreamBadResponseError,
  UpstreamBodyTimeoutError,
  UpstreamClosedError,
  UpstreamConnectTimeoutError,
  UpstreamHeadersTimeoutError,
} from '../errors.js'
import { CHUNKED_ERROR, ChunkedDecoder } from './chunked.js'
import { deadlineIn, type Expiring, unwatch, watch } from './deadlines.js'
import { type Exchange, IDEMPOTENT_METHODS } from './exchange.js'
import { HEAD_INCOMPLETE, responseHeadEnd } from './head-reader.js'
import { directRead } from './read-buffer.js'
import {
  BY_CLOSE,
  BY_LENGTH,
  CHUNKED,
  type Framing,
  NO_BODY,
  parseResponseHeadBytes,
} from './response-head.js'

/** What a connection needs of its pool. */
export interface ConnectionOwner {
  readonly hostname: string
  readonly port: number
  readonly tls: tls.ConnectionOptions | null
  readonly connectTimeout: number
  readonly headersTimeout: number
  readonly bodyTimeout: number
  readonly maxHeaderSize: number
  /** The shortest of the pool's timeouts, which sets how often deadlines are checked. */
  readonly shortestTimeout: number
  /** The exchange is over and the connection can carry another (`hint`: the upstream's keep-alive ms or -1). */
  released(conn: Connection, hint: number): void
  /** The connection is closed. */
  removed(conn: Connection): void
  /** Sends `ex` again, on a new connection: its kept-alive one was closed under it before any answer. */
  resend(ex: Exchange): void
  connected(conn: Connection): void
}

const CONNECTING = 0
const IDLE = 1
const HEAD = 2
const BODY = 3
const CLOSED = 4

const LAST_CHUNK = Buffer.from('0\r\n\r\n')
const CRLF = Buffer.from('\r\n')

/**
 * One keep-alive connection to an upstream, carrying one exchange at a time (no pipelining). It frames
 * the request body (by its Content-Length, or chunked) with backpressure, reads the response strictly by
 * RFC 9112 (status line, fields, then the body by length, chunked, or to the close), and is only handed
 * back to the pool when the response ended exactly where its framing said: a byte more, a byte less, an
 * unfinished request body or `Connection: close` and the socket is closed instead, so a confused upstream
 * can never shift the answers of the requests that follow onto the wrong clients.
 */
export class Connection implements Expiring {
  readonly socket: net.Socket
  /** The exchange on the wire (or waiting for the connect). */
  ex: Exchange | null = null
  private state = CONNECTING
  private headBuf: Buffer | null = null
  private framing: Framing = NO_BODY
  private left = 0
  private decoder: ChunkedDecoder | null = null
  private keepAlive = false
  private keepAliveHint = -1
  private reqBodyDone = true
  private reqBodySent = 0
  private waitingDrain = false
  private removed = false
  /** Exchanges this connection has carried, the one on the wire included. */
  private exchanges = 0
  deadline = 0

  constructor(private readonly owner: ConnectionOwner) {
    const socket =
      owner.tls === null
        ? // Reads land in the shared buffer and arrive at onData copied out (read-buffer.ts): no stream read.
          net.connect({ host: owner.hostname, port: owner.port, onread: directRead(this.onData) })
        : tls.connect({
            ...owner.tls,
            host: owner.hostname,
            port: owner.port,
            ...(owner.tls.servername === undefined && net.isIP(owner.hostname) === 0
              ? { servername: owner.hostname }
              : {}),
            ALPNProtocols: ['http/1.1'],
          })
    this.socket = socket
    socket.setNoDelay(true)
    watch(this, owner.shortestTimeout)
    this.deadline = deadlineIn(owner.connectTimeout)
    socket.once(owner.tls === null ? 'connect' : 'secureConnect', this.onConnect)
    if (owner.tls !== null) socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
    socket.on('drain', this.onDrain)
  }

  private readonly onConnect = (): void => {
    this.state = IDLE
    this.deadline = 0
    this.socket.setKeepAlive(true, 60_000)
    this.owner.connected(this)
  }

  /** Puts `ex` on the wire: the head, then its body if it has one. */
  send(ex: Exchange): void {
    this.ex = ex
    ex.conn = this
    this.state = HEAD
    this.exchanges++
    this.deadline = deadlineIn(this.owner.headersTimeout)
    this.socket.write(ex.head, 'latin1')
    const body = ex.body
    if (body === null) return
    this.reqBodyDone = false
    this.reqBodySent = 0
    body.on('data', this.onReqData)
    body.on('end', this.onReqEnd)
    body.on('error', this.onReqError)
    body.on('close', this.onReqClose)
  }

  // ---- the request body ----------------------------------------------------------------------------

  private readonly onReqData = (chunk: Buffer): void => {
    const ex = this.ex
    if (ex === null) return
    const socket = this.socket
    // While the request is still going out, the wait for its answer has not begun.
    if (this.state === HEAD) this.deadline = deadlineIn(this.owner.headersTimeout)
    let ok: boolean
    if (ex.bodyLength === -1) {
      if (chunk.length === 0) return
      socket.cork()
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1')
      socket.write(chunk)
      ok = socket.write(CRLF)
      socket.uncork()
    } else {
      this.reqBodySent += chunk.length
      if (this.reqBodySent > ex.bodyLength) {
        this.fail(new UpstreamBadRequestError('the request body is longer than its Content-Length'))
        return
      }
      ok = socket.write(chunk)
    }
    if (!ok) {
      this.waitingDrain = true
      ex.body!.pause()
    }
  }

  private readonly onDrain = (): void => {
    if (!this.waitingDrain) return
    this.waitingDrain = false
    this.ex?.body?.resume()
  }

  private readonly onReqEnd = (): void => {
    const ex = this.ex
    if (ex === null) return
    if (ex.bodyLength === -1) this.socket.write(LAST_CHUNK)
    else if (this.reqBodySent !== ex.bodyLength) {
      this.fail(new UpstreamBadRequestError('the request body is shorter than its Content-Length'))
      return
    }
    this.reqBodyDone = true
    this.detachBody(ex)
  }

  private readonly onReqError = (err: Error): void => {
    if (this.ex !== null) this.fail(err)
  }

  private readonly onReqClose = (): void => {
    if (this.ex !== null && !this.reqBodyDone)
      this.fail(new UpstreamBadRequestError('the request body ended before it was complete'))
  }

  private detachBody(ex: Exchange): void {
    const body = ex.body
    if (body === null) return
    body.removeListener('data', this.onReqData)
    body.removeListener('end', this.onReqEnd)
    body.removeListener('error', this.onReqError)
    body.removeListener('close', this.onReqClose)
    if (this.waitingDrain) {
      this.waitingDrain = false
      body.resume()
    }
  }

  // ---- the response --------------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    if (this.ex === null) {
      // Bytes nobody asked for: whatever the upstream meant by them, this connection is done.
      this.socket.destroy()
      return
    }
    if (this.state === HEAD) this.onHead(chunk)
    else if (this.state === BODY) this.onBody(chunk, 0)
  }

  private onHead(chunk: Buffer): void {
    const ex = this.ex!
    const max = this.owner.maxHeaderSize
    let buf = chunk
    let from = 0
    if (this.headBuf !== null) {
      from = Math.max(0, this.headBuf.length - 3)
      buf = Buffer.concat([this.headBuf, chunk])
      this.headBuf = null
    }
    for (;;) {
      const end = responseHeadEnd(buf, from, max)
      if (typeof end === 'string') {
        this.fail(new UpstreamBadResponseError(end))
        return
      }
      if (end === HEAD_INCOMPLETE) {
        // A head arriving in pieces: its deadline stands (the whole head is timed, not the gaps).
        this.headBuf = buf
        return
      }
      const head = parseResponseHeadBytes(buf, end, ex.method)
      if (typeof head === 'string') {
        this.fail(new UpstreamBadResponseError(head))
        return
      }
      const offset = end + 4
      if (head.statusCode < 200) {
        // Interim responses (100, 103) are handed to the handler, which may pass them on; a switch of
        // protocols nobody asked for is an error.
        if (head.statusCode === 101) {
          this.fail(new UpstreamBadResponseError('unrequested 101 response'))
          return
        }
        ex.handler.onResponseInformational?.(ex, head.statusCode, head.headers, head.statusMessage)
        if (this.ex !== ex) return
        if (offset === buf.length) return
        buf = buf.subarray(offset)
        from = 0
        continue
      }
      this.state = BODY
      this.framing = head.framing
      this.left = head.length
      this.keepAlive = head.keepAlive
      this.keepAliveHint = head.keepAliveHint
      if (head.framing === CHUNKED) this.decoder = new ChunkedDecoder()
      this.deadline = deadlineIn(this.owner.bodyTimeout)
      ex.handler.onResponseStart?.(ex, head.statusCode, head.headers, head.statusMessage)
      if (this.ex !== ex) return
      if (head.framing === NO_BODY || (head.framing === BY_LENGTH && head.length === 0)) {
        if (offset < buf.length) this.keepAlive = false
        this.complete()
        return
      }
      if (offset < buf.length) this.onBody(buf, offset)
      return
    }
  }

  private onBody(buf: Buffer, offset: number): void {
    const ex = this.ex!
    const framing = this.framing
    if (!ex.paused) this.deadline = deadlineIn(this.owner.bodyTimeout)
    if (framing === BY_LENGTH) {
      const available = buf.length - offset
      if (available <= this.left) {
        this.left -= available
        ex.handler.onResponseData?.(ex, offset === 0 ? buf : buf.subarray(offset))
      } else {
        // More than the Content-Length said: the rest is not this response's, and not anyone's.
        this.keepAlive = false
        ex.handler.onResponseData?.(ex, buf.subarray(offset, offset + this.left))
        this.left = 0
      }
      if (this.ex === ex && this.left === 0) this.complete()
    } else if (framing === CHUNKED) {
      const decoder = this.decoder!
      const r = decoder.feed(buf, offset, this.deliver)
      if (this.ex !== ex) return
      if (r === CHUNKED_ERROR) this.fail(new UpstreamBadResponseError(decoder.error))
      else if (r >= 0) {
        if (r < buf.length) this.keepAlive = false
        this.complete()
      }
    } else if (framing === BY_CLOSE)
      ex.handler.onResponseData?.(ex, offset === 0 ? buf : buf.subarray(offset))
  }

  private readonly deliver = (chunk: Buffer): boolean => {
    const ex = this.ex
    if (ex === null) return false
    ex.handler.onResponseData?.(ex, chunk)
    return this.ex === ex
  }

  /** The response ended where its framing said: hand the connection back (or close it), then tell the handler. */
  private complete(): void {
    const ex = this.ex!
    this.ex = null
    this.state = IDLE
    if (!this.reqBodyDone) {
      // Answered before the request body was all sent: the rest of it would arrive as a new request.
      this.keepAlive = false
      this.reqBodyDone = true
      this.detachBody(ex)
    }
    if (ex.paused) this.socket.resume()
    if (this.keepAlive) this.owner.released(this, this.keepAliveHint)
    else this.close()
    ex.end()
  }

  /** The exchange failed on this connection: close it and tell the handler. */
  fail(err: Error): void {
    const ex = this.ex
    if (ex === null) return
    this.ex = null
    this.close()
    this.detachBody(ex)
    ex.fail(err)
  }

  /** The exchange's handler gave up on it (`abort`): close the connection, which is mid-exchange. */
  abandon(ex: Exchange): void {
    if (this.ex !== ex) return
    this.ex = null
    this.detachBody(ex)
    this.close()
  }

  /** Parks the idle connection for at most `ms`. */
  park(ms: number): void {
    this.deadline = deadlineIn(ms)
  }

  pause(): void {
    this.socket.pause()
    this.deadline = 0
  }

  resume(): void {
    this.socket.resume()
    this.deadline = deadlineIn(this.owner.bodyTimeout)
  }

  close(): void {
    this.state = CLOSED
    this.deadline = 0
    this.socket.destroy()
  }

  /**
   * A kept-alive connection the upstream closed (or reset) just as a request went out on it, before any
   * byte of an answer: the upstream's idle timeout and the request crossed, and nothing of the request
   * was acted on. Browsers and Squid resend such a request once; so does this, on a new connection, when
   * it is idempotent and has no body (a body is the client's stream, already consumed).
   */
  private resendable(): boolean {
    const ex = this.ex
    return (
      ex !== null &&
      this.state === HEAD &&
      this.exchanges > 1 &&
      this.headBuf === null &&
      ex.body === null &&
      !ex.resent &&
      IDEMPOTENT_METHODS.has(ex.method)
    )
  }

  private resend(): void {
    const ex = this.ex!
    this.ex = null
    this.close()
    ex.resent = true
    ex.conn = null
    this.owner.resend(ex)
  }

  private readonly onEnd = (): void => {
    if (this.ex !== null && this.state === BODY && this.framing === BY_CLOSE) {
      this.complete()
      return
    }
    if (this.resendable()) {
      this.resend()
      return
    }
    this.fail(
      new UpstreamClosedError(
        this.state === BODY ? 'the response body ended before it was complete' : 'before answering',
      ),
    )
    this.close()
  }

  private readonly onError = (err: Error): void => {
    const code = (err as { code?: string }).code
    if ((code === 'ECONNRESET' || code === 'EPIPE') && this.resendable()) {
      this.resend()
      return
    }
    this.fail(err)
    this.close()
  }

  private readonly onClose = (): void => {
    const state = this.state
    this.state = CLOSED
    this.fail(new UpstreamClosedError(state === BODY ? 'in the middle of the response' : 'before answering'))
    if (!this.removed) {
      this.removed = true
      unwatch(this)
      this.owner.removed(this)
    }
  }

  expire(): void {
    const o = this.owner
    switch (this.state) {
      case CONNECTING:
        this.fail(new UpstreamConnectTimeoutError(`no connection within ${o.connectTimeout} ms`))
        break
      case HEAD:
        this.fail(new UpstreamHeadersTimeoutError(`no response head within ${o.headersTimeout} ms`))
        break
      case BODY:
        this.fail(new UpstreamBodyTimeoutError(`no response body data for ${o.bodyTimeout} ms`))
        break
    }
    this.close()
  }

  get usable(): boolean {
    return this.state === IDLE && !this.socket.destroyed
  }
}
