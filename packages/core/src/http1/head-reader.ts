import { type ProxyError, UpstreamBadResponseError } from '../errors.js'
import { parseResponseHeadBytes, type ResponseHead } from './response-head.js'

const END_OF_HEAD = Buffer.from('\r\n\r\n')

/** `responseHeadEnd`'s answer while the empty line ending the head has not arrived. */
export const HEAD_INCOMPLETE = -1

/**
 * Where the empty line ending a response head starts in `buf` (searched from `from`), `HEAD_INCOMPLETE`
 * while it has not arrived, or why what arrived cannot become a head: over `max` bytes, or a line ended
 * by a bare LF, which never shows the CRLF CRLF waited for and is refused now rather than at the
 * headers timeout. Only an incomplete head is scanned for LFs, each byte about once.
 */
export function responseHeadEnd(buf: Buffer, from: number, max: number): number | string {
  const end = buf.indexOf(END_OF_HEAD, from)
  if (end !== -1 && end <= max) return end
  if (buf.length > max) return `response head over ${max} bytes`
  for (let lf = buf.indexOf(10, from); lf !== -1; lf = buf.indexOf(10, lf + 1))
    if (lf === 0 || buf[lf - 1] !== 13) return 'bare LF in the response head'
  return HEAD_INCOMPLETE
}

/** A final response head read off a socket, and the bytes it arrived with. */
export interface HeadRead {
  head: ResponseHead
  /** What arrived from the start of this head on: the head, then whatever followed it. */
  bytes: Buffer
  /** Where the head's empty line ends in `bytes`: the first byte after the head. */
  offset: number
}

/**
 * Reads the answer to a request written on a raw socket (an upgrade, a CONNECT to a parent proxy) with
 * the parser and the limits of core's pool: the head parsed strictly (RFC 9112), interim 1xx answers
 * skipped, and `101 Switching Protocols` taken as final, since what follows it is no longer HTTP. The
 * socket is the caller's: feed it each chunk until the head, or an error, comes out.
 */
export class ResponseHeadReader {
  private pending: Buffer | null = null

  constructor(
    private readonly method: string,
    private readonly maxHeaderSize: number,
  ) {}

  /** The final head, null while more bytes are needed, or a `PK_UPSTREAM_BAD_RESPONSE`. */
  push(chunk: Buffer): HeadRead | ProxyError | null {
    let buf = chunk
    let from = 0
    if (this.pending !== null) {
      from = Math.max(0, this.pending.length - 3)
      buf = Buffer.concat([this.pending, chunk])
      this.pending = null
    }
    for (;;) {
      const end = responseHeadEnd(buf, from, this.maxHeaderSize)
      if (typeof end === 'string') return new UpstreamBadResponseError(end)
      if (end === HEAD_INCOMPLETE) {
        this.pending = buf
        return null
      }
      const head = parseResponseHeadBytes(buf, end, this.method)
      if (typeof head === 'string') return new UpstreamBadResponseError(head)
      const offset = end + 4
      if (head.statusCode >= 200 || head.statusCode === 101) return { head, bytes: buf, offset }
      buf = buf.subarray(offset)
      from = 0
      if (buf.length === 0) return null
    }
  }
}
