import { randomBytes } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { httpDate } from './http-date.js'
import type { CacheEntry } from './store.js'

/**
 * Range requests answered from a stored complete 200 (RFC 9110 §14): one range as a 206 with
 * Content-Range, several as multipart/byteranges, none satisfiable as 416 with an
 * unsatisfied-range Content-Range (the length alone, §14.4).
 * What the cache does not answer this way (a method other than GET, a unit other than bytes, a Range it
 * cannot parse, an If-Range that does not match, too many pieces) gets the whole 200, as §14.2 allows
 * a server to ignore Range.
 */

/** More pieces than this (after merging overlapping and adjacent ones) and the whole 200 is cheaper. */
const MAX_PARTS = 32
const BYTES_RANGE = /^bytes[ \t]*=[ \t]*(.*)$/i
const RANGE_SPEC = /^(?:(\d{1,15})-(\d{1,15})?|-(\d{1,15}))$/

/** The byte ranges of `header` for a body of `size` bytes: null to ignore it, [] when none is satisfiable. */
export function parseRange(header: string, size: number): Array<[number, number]> | null {
  const m = BYTES_RANGE.exec(header)
  if (m === null) return null
  const ranges: Array<[number, number]> = []
  let specs = 0
  for (const raw of m[1]!.split(',')) {
    const spec = raw.replace(/^[\t ]+|[\t ]+$/g, '')
    // §5.6.1: empty list members are allowed and ignored.
    if (spec === '') continue
    specs++
    const r = RANGE_SPEC.exec(spec)
    if (r === null) return null
    if (r[3] !== undefined) {
      // suffix-range: the last N bytes; N = 0 is unsatisfiable.
      const n = Number(r[3])
      if (n > 0 && size > 0) ranges.push([Math.max(0, size - n), size - 1])
      continue
    }
    const first = Number(r[1])
    // §14.1.1: a last position below the first makes the whole field invalid.
    if (r[2] !== undefined && Number(r[2]) < first) return null
    const last = r[2] === undefined ? size - 1 : Math.min(Number(r[2]), size - 1)
    if (first < size) ranges.push([first, last])
  }
  if (specs === 0) return null
  return ranges
}

/** §14.2: overlapping and adjacent ranges may be merged, whatever order they came in. */
function coalesce(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = ranges.slice().sort((a, b) => a[0] - b[0])
  const out: Array<[number, number]> = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1])
    else out.push([r[0], r[1]])
  }
  return out
}

/** §13.1.5: does If-Range let the Range be evaluated against this entry? (strong comparison only) */
function ifRangeHolds(value: string, entry: CacheEntry): boolean {
  const v = value.replace(/^[\t ]+|[\t ]+$/g, '')
  if (v.startsWith('"') || v.startsWith('W/')) {
    const etag = entry.policy.etag
    return etag !== null && !v.startsWith('W/') && !etag.startsWith('W/') && v === etag
  }
  const date = httpDate(v)
  const lm = entry.policy.lastModified
  return date !== null && lm !== null && httpDate(lm) === date
}

export interface RangeAnswer {
  statusCode: 206 | 416
  /** The head as name, value pairs (the stored fields but Content-Length, plus what this answer needs). */
  headers: string[]
  body: Buffer | Buffer[]
}

/**
 * The answer to a GET with Range from `entry`, whose hit head is `head` (name, value pairs, with the
 * stored Content-Length), or null when the whole entry is the answer.
 */
export function rangeAnswer(
  request: IncomingHttpHeaders,
  entry: CacheEntry,
  head: readonly string[],
): RangeAnswer | null {
  const range = request.range
  if (range === undefined || entry.statusCode !== 200) return null
  const ifRange = request['if-range']
  // Several If-Range fields are no single validator: the whole 200, as for one that does not match.
  if (ifRange !== undefined && (Array.isArray(ifRange) || !ifRangeHolds(ifRange, entry))) return null
  const body = entry.body
  const size = body.length
  const parsed = parseRange(range, size)
  if (parsed === null) return null
  if (parsed.length === 0) {
    const headers = without(head, 'content-length', 'content-type')
    headers.push('content-range', `bytes */${size}`, 'content-length', '0')
    return { statusCode: 416, headers, body: Buffer.alloc(0) }
  }
  const ranges = coalesce(parsed)
  if (ranges.length > MAX_PARTS) return null
  if (ranges.length === 1) {
    const [first, last] = ranges[0]!
    const headers = without(head, 'content-length')
    headers.push(
      'content-range',
      `bytes ${first}-${last}/${size}`,
      'content-length',
      String(last - first + 1),
    )
    return { statusCode: 206, headers, body: body.subarray(first, last + 1) }
  }
  const boundary = randomBytes(12).toString('hex')
  const type = entry.headers['content-type']
  const typeLine =
    type === undefined ? '' : `content-type: ${Array.isArray(type) ? type.join(', ') : type}\r\n`
  const parts: Buffer[] = []
  let length = 0
  for (const [first, last] of ranges) {
    const partHead = Buffer.from(
      `${parts.length === 0 ? '' : '\r\n'}--${boundary}\r\n${typeLine}content-range: bytes ${first}-${last}/${size}\r\n\r\n`,
      'latin1',
    )
    const piece = body.subarray(first, last + 1)
    parts.push(partHead, piece)
    length += partHead.length + piece.length
  }
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')
  parts.push(tail)
  length += tail.length
  const headers = without(head, 'content-length', 'content-type')
  headers.push('content-type', `multipart/byteranges; boundary=${boundary}`, 'content-length', String(length))
  return { statusCode: 206, headers, body: parts }
}

function without(head: readonly string[], ...names: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < head.length; i += 2) if (!names.includes(head[i]!)) out.push(head[i]!, head[i + 1]!)
  return out
}
