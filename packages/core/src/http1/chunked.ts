/**
 * A strict decoder for the chunked transfer coding (RFC 9112 §7.1): hex sizes of at most 12 digits,
 * chunk extensions skipped (their characters checked), CRLF exactly where the grammar puts it, the
 * trailer section read and dropped. It hands out slices of the input, never copies.
 */
const SIZE = 0
const EXTENSION = 1
const SIZE_LF = 2
const DATA = 3
const DATA_CR = 4
const DATA_LF = 5
const TRAILER = 6
const TRAILER_LF = 7
const DONE = 8

// Past this a size would not fit a safe integer; no real chunk is near it.
const MAX_SIZE_DIGITS = 12
// A trailer section longer than this is an attack, not metadata.
const MAX_TRAILER_BYTES = 16 * 1024

export const CHUNKED_MORE = -1
export const CHUNKED_ERROR = -2

export class ChunkedDecoder {
  private state = SIZE
  private size = 0
  private digits = 0
  private left = 0
  private trailerBytes = 0
  private lineLength = 0
  error = ''

  /**
   * Feeds `buf` from `start`, calling `onData` with each slice of body. Returns `CHUNKED_MORE` when it
   * needs more input, `CHUNKED_ERROR` (with `error` set) when the coding is broken, or the offset just
   * past the end of the chunked body (anything after it is not part of this message).
   */
  feed(buf: Buffer, start: number, onData: (chunk: Buffer) => boolean): number {
    let i = start
    const n = buf.length
    while (i < n) {
      switch (this.state) {
        case SIZE: {
          const c = buf[i]!
          const v =
            c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1
          if (v !== -1) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail('chunk size too large')
            this.size = this.size * 16 + v
            i++
          } else if (this.digits === 0) return this.fail('invalid chunk size')
          else if (c === 13) {
            this.state = SIZE_LF
            i++
          } else if (c === 59 /* ; */ || c === 32 || c === 9) {
            // chunk-ext, with the BWS RFC 9112 §7.1.1 allows before it.
            this.state = EXTENSION
            i++
          } else return this.fail('invalid chunk size')
          break
        }
        case EXTENSION: {
          const c = buf[i]!
          if (c === 13) this.state = SIZE_LF
          else if ((c < 32 && c !== 9) || c === 127) return this.fail('invalid chunk extension')
          i++
          break
        }
        case SIZE_LF:
          if (buf[i] !== 10) return this.fail('chunk size line not ended by CRLF')
          i++
          if (this.size === 0) {
            this.state = TRAILER
            this.lineLength = 0
          } else {
            this.state = DATA
            this.left = this.size
          }
          this.size = 0
          this.digits = 0
          break
        case DATA: {
          const take = Math.min(this.left, n - i)
          this.left -= take
          const end = i + take
          if (this.left === 0) this.state = DATA_CR
          const slice = i === 0 && end === n ? buf : buf.subarray(i, end)
          i = end
          if (!onData(slice)) return CHUNKED_MORE
          break
        }
        case DATA_CR:
          if (buf[i] !== 13) return this.fail('chunk data not followed by CRLF')
          this.state = DATA_LF
          i++
          break
        case DATA_LF:
          if (buf[i] !== 10) return this.fail('chunk data not followed by CRLF')
          this.state = SIZE
          i++
          break
        case TRAILER: {
          const c = buf[i]!
          i++
          if (++this.trailerBytes > MAX_TRAILER_BYTES) return this.fail('trailer section too large')
          if (c === 13) this.state = TRAILER_LF
          else if (c === 10 || c === 0) return this.fail('invalid trailer section')
          else this.lineLength++
          break
        }
        case TRAILER_LF:
          if (buf[i] !== 10) return this.fail('trailer line not ended by CRLF')
          i++
          if (this.lineLength === 0) {
            this.state = DONE
            return i
          }
          this.lineLength = 0
          this.state = TRAILER
          break
        default:
          return i
      }
    }
    return CHUNKED_MORE
  }

  get done(): boolean {
    return this.state === DONE
  }

  private fail(message: string): number {
    this.error = message
    return CHUNKED_ERROR
  }
}
