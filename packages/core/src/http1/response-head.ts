// Over ~300 lines for a reason: one parser, the response head read strictly by RFC 9112 in a single pass
// over the bytes, its lookup tables beside it; split, the tables and the scan would be read apart.
import type { IncomingHttpHeaders } from 'node:http'

/** How the body of a response is delimited (RFC 9112 §6.3). */
export const NO_BODY = 0
export const BY_LENGTH = 1
export const CHUNKED = 2
export const BY_CLOSE = 3
export type Framing = typeof NO_BODY | typeof BY_LENGTH | typeof CHUNKED | typeof BY_CLOSE

/** A parsed response head: the status line, the header fields, and what they say about the body. */
export interface ResponseHead {
  statusCode: number
  statusMessage: string
  headers: IncomingHttpHeaders
  framing: Framing
  /** Body length for BY_LENGTH. */
  length: number
  /** The connection may carry another request once this response is read. */
  keepAlive: boolean
  /** `Keep-Alive: timeout=N` in ms, or -1. */
  keepAliveHint: number
}

// Buffer's own latin1 decoder: what `toString('latin1', start, end)` calls after checking its arguments.
type Latin1 = { latin1Slice(start: number, end: number): string }

// tchar (RFC 9110 §5.6.2): the characters of a field name.
const TCHAR = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1
// field-vchar / SP / HTAB (RFC 9110 §5.5): everything but the controls (HTAB aside) and DEL. obs-text
// (0x80-0xff) is kept, as RFC 9110 allows; CR, LF and NUL never are.
const VALUE_OK = new Uint8Array(256)
for (let c = 0; c < 256; c++) VALUE_OK[c] = c === 9 || (c >= 32 && c !== 127) ? 1 : 0

// Field names seen in most responses, matched case-insensitively on the bytes and handed out as the
// same (internalised) strings every time: no slice, no lower-casing, no hashing per response. Their
// index also stands for them below: a bit in the mask of names seen, and the case of the switches.
const NAMES = [
  'age',
  'date',
  'etag',
  'vary',
  'server',
  'expires',
  'location',
  'keep-alive',
  'connection',
  'set-cookie',
  'content-type',
  'accept-ranges',
  'cache-control',
  'last-modified',
  'x-powered-by',
  'content-length',
  'content-encoding',
  'transfer-encoding',
] as const
const KEEP_ALIVE = NAMES.indexOf('keep-alive')
const CONNECTION = NAMES.indexOf('connection')
const CONTENT_LENGTH = NAMES.indexOf('content-length')
const TRANSFER_ENCODING = NAMES.indexOf('transfer-encoding')
const NAMES_BY_LENGTH: number[][] = []
for (let k = 0; k < NAMES.length; k++) {
  const length = NAMES[k]!.length
  const list = NAMES_BY_LENGTH[length] ?? []
  list.push(k)
  NAMES_BY_LENGTH[length] = list
}

/** The index in NAMES of the field name `buf[start, start + length)`, or -1. */
function knownName(buf: Buffer, start: number, length: number): number {
  const candidates = NAMES_BY_LENGTH[length]
  if (candidates === undefined) return -1
  for (let k = 0; k < candidates.length; k++) {
    const index = candidates[k]!
    const name = NAMES[index]!
    let i = 0
    // Within tchar, `| 0x20` maps exactly the upper-case letters onto lower-case ones.
    while (i < length && (buf[start + i]! | 0x20) === name.charCodeAt(i)) i++
    if (i === length) return index
  }
  return -1
}

/**
 * `headers[NAMES[index]] = value`, as a store to a named property. Upstreams send their fields in the
 * same order every time, so each of these sites sees one or two object shapes; one keyed store for every
 * name saw them all and fell back to V8's slowest (megamorphic) store on every field. The cases follow
 * NAMES' order; `http1-parsers.test.ts` sends every known name and checks where its value lands.
 */
function setKnown(headers: IncomingHttpHeaders, index: number, value: string): void {
  switch (index) {
    case 0:
      headers.age = value
      break
    case 1:
      headers.date = value
      break
    case 2:
      headers.etag = value
      break
    case 3:
      headers.vary = value
      break
    case 4:
      headers.server = value
      break
    case 5:
      headers.expires = value
      break
    case 6:
      headers.location = value
      break
    case 7:
      headers['keep-alive'] = value
      break
    case 8:
      headers.connection = value
      break
    case 9:
      ;(headers as Record<string, string | string[]>)['set-cookie'] = value
      break
    case 10:
      headers['content-type'] = value
      break
    case 11:
      headers['accept-ranges'] = value
      break
    case 12:
      headers['cache-control'] = value
      break
    case 13:
      headers['last-modified'] = value
      break
    case 14:
      headers['x-powered-by'] = value
      break
    case 15:
      headers['content-length'] = value
      break
    case 16:
      headers['content-encoding'] = value
      break
    case 17:
      headers['transfer-encoding'] = value
      break
  }
}

// OWS (RFC 9110 §5.6.3) around the members of a list: SP and HTAB only. String#trim would also take off
// a no-break space (0xa0, allowed in a field value as obs-text), letting `42\xa0` pass as a length.
const OWS_AROUND = /^[\t ]+|[\t ]+$/g
const ows = (v: string) => v.replace(OWS_AROUND, '')
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout=([0-9]{1,9})/i
const CONNECTION_CLOSE = /(?:^|,)[\t ]*close[\t ]*(?:,|$)/i

function isKeepAlive(value: string): boolean {
  return (
    value === 'keep-alive' ||
    value === 'Keep-Alive' ||
    (value.length === 10 && value.toLowerCase() === 'keep-alive')
  )
}

/** 1*15DIGIT (a Content-Length we take), without a pattern. */
function isLength(v: string): boolean {
  const n = v.length
  if (n === 0 || n > 15) return false
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/**
 * `Keep-Alive: timeout=N` in ms, or -1. The value as Node and most servers write it (`timeout=5`,
 * `timeout=5, max=100`) is read by hand; anything else by the pattern.
 */
function keepAliveTimeout(value: string): number {
  if (value.startsWith('timeout=')) {
    let n = 0
    let i = 8
    while (i < value.length && i < 17) {
      const c = value.charCodeAt(i)
      if (c < 48 || c > 57) break
      n = n * 10 + (c - 48)
      i++
    }
    if (i > 8 && (i === value.length || value.charCodeAt(i) === 44) /* , */) return n * 1000
  }
  const m = KEEP_ALIVE_TIMEOUT.exec(value)
  return m === null ? -1 : Number(m[1]) * 1000
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/**
 * Parses a response head (the bytes before the empty line, as latin1) strictly by RFC 9112, for a
 * request sent with `method`. Returns the head, or a message saying what is wrong with it: an upstream
 * that cannot frame its answer unambiguously is a bad gateway, never something to guess about.
 */
export function parseResponseHead(text: string, method: string): ResponseHead | string {
  // With the empty line after it, as on the wire: the byte parser may look one past `end`.
  return parseResponseHeadBytes(Buffer.from(`${text}\r\n\r\n`, 'latin1'), text.length, method)
}

/**
 * The same on the bytes `buf[0, end)` (`end`: where the empty line's CRLF CRLF starts), scanned once
 * with lookup tables: a regular expression per field line cost more than the rest of the client.
 */
export function parseResponseHeadBytes(buf: Buffer, end: number, method: string): ResponseHead | string {
  // The tables as locals: a module's own constants are read through its context, with a check that they
  // are initialised, on every access, which the byte loops below would pay per byte.
  const valueOk = VALUE_OK
  const tchar = TCHAR
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). A missing final SP is
  // accepted, as llhttp does; the reason-phrase is HTAB / SP / VCHAR / obs-text.
  if (
    end < 12 ||
    buf[0] !== 72 || // H
    buf[1] !== 84 || // T
    buf[2] !== 84 || // T
    buf[3] !== 80 || // P
    buf[4] !== 47 || // /
    buf[5] !== 49 || // 1
    buf[6] !== 46 || // .
    (buf[7] !== 48 && buf[7] !== 49) ||
    buf[8] !== 32 ||
    !isDigit(buf[9]!) ||
    buf[9] === 48 ||
    !isDigit(buf[10]!) ||
    !isDigit(buf[11]!)
  )
    return 'invalid status line'
  const statusCode = (buf[9]! - 48) * 100 + (buf[10]! - 48) * 10 + (buf[11]! - 48)
  let i = 12
  let reasonStart = 12
  if (buf[12] === 32) {
    reasonStart = 13
    i = 13
  } else if (buf[12] !== 13) return 'invalid status line'
  while (i < end && buf[i] !== 13) {
    if (valueOk[buf[i]!] === 0) return 'invalid status line'
    i++
  }
  // The head decoded once: every name and value is then a slice of this string, where one call into
  // Buffer's decoder per field had cost about as much as the rest of the parse.
  const text = (buf as unknown as Latin1).latin1Slice(0, end)
  const statusMessage = reasonStart < i ? text.slice(reasonStart, i) : ''

  const headers: IncomingHttpHeaders = {}
  let contentLength: string | null = null
  let transferEncoding: string | null = null
  let connection: string | null = null
  let keepAliveHint = -1
  /** Bit k: NAMES[k] was seen (a known name is never an inherited property, so no lookup is needed). */
  let seen = 0
  // `i` is at the CR ending the previous line (or at `end`).
  while (i < end) {
    if (buf[i + 1] !== 10) return 'line not ended by CRLF'
    i += 2
    // field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). No whitespace before the colon, and
    // no obs-fold: a line starting with SP or HTAB is not a field name.
    const nameStart = i
    while (tchar[buf[i]!] === 1) i++
    if (i === nameStart || buf[i] !== 58 /* : */ || i >= end) return 'invalid header line'
    const nameLength = i - nameStart
    const index = knownName(buf, nameStart, nameLength)
    const name = index === -1 ? text.slice(nameStart, i).toLowerCase() : NAMES[index]!
    i++
    while (buf[i] === 32 || buf[i] === 9) i++
    const valueStart = i
    let valueEnd = i
    // VALUE_OK is 0 for CR (a control): the loop stops at the line's end or at a byte not allowed.
    while (i < end) {
      const c = buf[i]!
      if (valueOk[c] === 0) break
      i++
      // Past the controls (HTAB aside), every byte above SP is not whitespace.
      if (c > 32) valueEnd = i
    }
    if (i < end && buf[i] !== 13) return 'invalid character in a header value'
    const value = valueEnd > valueStart ? text.slice(valueStart, valueEnd) : ''
    // The headers are a plain object: a field named after an inherited property (`constructor`,
    // `toString`) is a new field, and `__proto__` is dropped rather than allowed to swap the prototype.
    let repeated: boolean
    if (index === -1) repeated = Object.hasOwn(headers, name)
    else {
      repeated = (seen & (1 << index)) !== 0
      seen |= 1 << index
    }
    if (repeated) {
      const previous = headers[name]!
      if (Array.isArray(previous)) previous.push(value)
      else headers[name] = [previous as string, value]
    } else if (index !== -1) setKnown(headers, index, value)
    else if (name !== '__proto__') headers[name] = value
    switch (index) {
      case CONTENT_LENGTH:
        contentLength = contentLength === null ? value : `${contentLength},${value}`
        break
      case TRANSFER_ENCODING:
        transferEncoding = transferEncoding === null ? value : `${transferEncoding},${value}`
        break
      case CONNECTION:
        connection = connection === null ? value : `${connection},${value}`
        break
      case KEEP_ALIVE: {
        const timeout = keepAliveTimeout(value)
        if (timeout !== -1) keepAliveHint = timeout
        break
      }
    }
  }
  let keepAlive = buf[7] === 49
  // `Connection: keep-alive` (what most upstreams send) spares the pattern; any other value is read by it
  // (a length check alone would have let the ten characters of `close, foo` keep the connection).
  if (connection !== null && !isKeepAlive(connection) && CONNECTION_CLOSE.test(connection)) keepAlive = false

  let framing: Framing
  let length = 0
  // RFC 9112 §6.3 ¶2: a 2xx to CONNECT is a tunnel from the empty line on; its Content-Length and
  // Transfer-Encoding are ignored.
  if (
    method === 'HEAD' ||
    statusCode < 200 ||
    statusCode === 204 ||
    statusCode === 304 ||
    (statusCode < 300 && method === 'CONNECT')
  )
    framing = NO_BODY
  else if (transferEncoding !== null) {
    // §6.3 ¶4: a response whose final coding is not chunked runs to the close; its coding could not be
    // taken off here, and Transfer-Encoding is hop-by-hop, so relaying it would hand on bytes that no
    // longer say how they are coded. Refused instead.
    const codings = transferEncoding.toLowerCase().split(',')
    const last = ows(codings[codings.length - 1]!)
    if (last !== 'chunked' || codings.length > 1) return `unsupported Transfer-Encoding: ${transferEncoding}`
    framing = CHUNKED
    // §6.3 ¶3: with both, Transfer-Encoding wins and the connection must not be reused.
    if (contentLength !== null) keepAlive = false
  } else if (contentLength !== null) {
    framing = BY_LENGTH
    if (isLength(contentLength)) length = Number(contentLength)
    else {
      // §6.3 ¶5: several values (fields or a list) are an error unless they are all the same number.
      const values = contentLength.split(',')
      const first = ows(values[0]!)
      if (!isLength(first)) return `invalid Content-Length: ${contentLength}`
      for (let i = 1; i < values.length; i++)
        if (ows(values[i]!) !== first) return `conflicting Content-Length: ${contentLength}`
      length = Number(first)
      headers['content-length'] = first
    }
  } else {
    framing = BY_CLOSE
    keepAlive = false
  }
  return {
    statusCode,
    statusMessage,
    headers,
    framing,
    length,
    keepAlive,
    keepAliveHint,
  }
}
