// Shared by the http1-*.test.ts files: a raw TCP origin that records the exact bytes it receives and
// answers with scripted raw bytes, and `fetchVia`, which dispatches one request through an Http1Pool and
// collects what its handler hears.
import type { IncomingHttpHeaders } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import {
  type DispatchHandler,
  type Exchange,
  Http1Pool,
  type Http1PoolOptions,
  type Http1Request,
} from '../src/index.js'

/** One request as the raw origin parsed it off the wire. */
export interface RawRequest {
  /** Which connection carried it (0-based, in accept order) and its place among all requests. */
  conn: number
  index: number
  method: string
  path: string
  /** The head as received, up to and including the empty line. */
  head: string
  /** The body with its framing taken off (chunked decoded). */
  body: Buffer
  socket: net.Socket
}

export interface RawOrigin {
  url: string
  port: number
  /** Connections accepted so far. */
  readonly connections: number
  /** Connections the origin has seen close. */
  readonly closedConnections: number
  requests: RawRequest[]
  /** Every byte connection `conn` received, in order. */
  bytes(conn: number): Buffer
  /** Resolves once connection `conn` has been accepted and then closed. */
  whenClosed(conn: number): Promise<void>
  close(): Promise<void>
}

/** What to send back for a request: bytes, or nothing (the answer may use `req.socket` itself). */
export type Answer = (req: RawRequest) => string | Buffer | undefined

/** The end of a chunked body starting at `from`, and its data, or null while incomplete. */
function chunkedEnd(buf: Buffer, from: number): { end: number; body: Buffer } | null {
  const parts: Buffer[] = []
  let i = from
  for (let guard = 0; guard < 100_000; guard++) {
    const eol = buf.indexOf('\r\n', i)
    if (eol === -1) return null
    const size = Number.parseInt(buf.toString('latin1', i, eol).split(';')[0]!, 16)
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', eol)
      return end === -1 ? null : { end: end + 4, body: Buffer.concat(parts) }
    }
    if (buf.length < eol + 2 + size + 2) return null
    parts.push(buf.subarray(eol + 2, eol + 2 + size))
    i = eol + 2 + size + 2
  }
  throw new Error('too many chunks')
}

/**
 * A TCP origin on 127.0.0.1 port 0 that reads HTTP/1.1 requests (Content-Length or chunked bodies) off
 * each connection and writes whatever `answer` returns for each, byte for byte.
 */
export async function startRawOrigin(answer: Answer): Promise<RawOrigin> {
  const received: Buffer[][] = []
  const closes: Array<{ promise: Promise<void>; resolve: () => void }> = []
  const requests: RawRequest[] = []
  const sockets = new Set<net.Socket>()
  let closed = 0
  const closeSlot = (n: number) => {
    while (closes.length <= n) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => {
        resolve = r
      })
      closes.push({ promise, resolve })
    }
    return closes[n]!
  }
  const server = net.createServer((socket) => {
    const conn = received.length
    const mine: Buffer[] = []
    received.push(mine)
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => {
      sockets.delete(socket)
      closed++
      closeSlot(conn).resolve()
    })
    let pending = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      mine.push(chunk)
      pending = Buffer.concat([pending, chunk])
      for (let guard = 0; guard < 1000; guard++) {
        const headEnd = pending.indexOf('\r\n\r\n')
        if (headEnd === -1) return
        const head = pending.toString('latin1', 0, headEnd + 4)
        const [method = '', path = ''] = head.split(' ')
        const length = /\r\ncontent-length: *(\d+)/i.exec(head)
        let end: number
        let body: Buffer
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const found = chunkedEnd(pending, headEnd + 4)
          if (found === null) return
          end = found.end
          body = found.body
        } else {
          end = headEnd + 4 + (length === null ? 0 : Number(length[1]))
          if (pending.length < end) return
          body = Buffer.from(pending.subarray(headEnd + 4, end))
        }
        pending = pending.subarray(end)
        const req: RawRequest = { conn, index: requests.length, method, path, head, body, socket }
        requests.push(req)
        const out = answer(req)
        if (out !== undefined) socket.write(out)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return received.length
    },
    get closedConnections() {
      return closed
    },
    requests,
    bytes: (conn) => Buffer.concat(received[conn] ?? []),
    whenClosed: (conn) => closeSlot(conn).promise,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** `HTTP/1.1 200 OK` with a Content-Length body. */
export const ok = (body: string, extra = ''): string =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`

export interface Fetched {
  statusCode: number
  statusMessage: string
  headers: IncomingHttpHeaders
  body: Buffer
  error: Error | null
  /** How often each callback ran. */
  starts: number
  ends: number
  errors: number
}

/**
 * Dispatches one request and resolves with everything its handler heard once the exchange is over
 * (`onResponseEnd` or `onResponseError`). `hooks` run after the recording, for tests that pause or abort.
 */
export function fetchVia(
  pool: Http1Pool,
  options: Partial<Http1Request> = {},
  hooks: DispatchHandler = {},
): Promise<Fetched> {
  const r: Fetched = {
    statusCode: 0,
    statusMessage: '',
    headers: {},
    body: Buffer.alloc(0),
    error: null,
    starts: 0,
    ends: 0,
    errors: 0,
  }
  const chunks: Buffer[] = []
  return new Promise((resolve) => {
    const finish = () => {
      r.body = Buffer.concat(chunks)
      resolve(r)
    }
    pool.dispatch({ method: 'GET', path: '/', ...options } as Http1Request, {
      onRequestStart: (c: Exchange, ctx: unknown) => hooks.onRequestStart?.(c, ctx),
      onResponseStart(c, statusCode, headers, statusMessage) {
        r.starts++
        r.statusCode = statusCode
        r.headers = headers
        r.statusMessage = statusMessage
        hooks.onResponseStart?.(c, statusCode, headers, statusMessage)
      },
      onResponseData(c, chunk) {
        chunks.push(Buffer.from(chunk))
        hooks.onResponseData?.(c, chunk)
      },
      onResponseEnd(c, trailers) {
        r.ends++
        hooks.onResponseEnd?.(c, trailers)
        finish()
      },
      onResponseError(c, err) {
        r.errors++
        r.error = err
        hooks.onResponseError?.(c, err)
        finish()
      },
    })
  })
}

/** The `code` of an error, for assertions. */
export const codeOf = (err: Error | null): string | undefined => (err as { code?: string } | null)?.code

/** An Http1Pool to `origin`, destroyed when the test ends. */
export function poolFor(
  t: { after(fn: () => unknown): void },
  origin: { url: string },
  options?: Http1PoolOptions,
): Http1Pool {
  const pool = new Http1Pool(origin.url, options)
  t.after(() => pool.destroy())
  return pool
}
