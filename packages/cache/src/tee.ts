import { finished, type Readable, type Writable } from 'node:stream'

/**
 * Copies `body` into `writer` while `body` goes on to the client. The writer never slows the client down
 * (stores buffer synchronously and abandon what grows too big by destroying the writer); the entry is kept
 * only when the body ended
 * normally with the announced length, so an incomplete response is never stored as complete (§3.3).
 */
export function teeInto(
  body: Readable,
  writer: Writable,
  expectedLength: number | null,
  onDone: (stored: boolean, bytes: number) => void,
): void {
  let bytes = 0
  let ended = false
  let settled = false
  const settle = (ok: boolean) => {
    if (settled) return
    settled = true
    onDone(ok, bytes)
  }
  writer.on('error', () => settle(false))
  body.on('data', (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    bytes += buf.length
    if (!writer.destroyed) writer.write(buf)
  })
  body.once('end', () => {
    ended = true
    if (writer.destroyed || (expectedLength !== null && bytes !== expectedLength)) {
      writer.destroy()
      settle(false)
      return
    }
    writer.end()
    finished(writer, (err) => settle(!err))
  })
  body.once('close', () => {
    if (ended) return
    writer.destroy()
    settle(false)
  })
}

/** Stores a body that is already whole (a plain route's string or Buffer payload). */
export function writeWhole(body: Buffer, writer: Writable, onDone: (stored: boolean, bytes: number) => void) {
  let settled = false
  const settle = (ok: boolean) => {
    if (settled) return
    settled = true
    onDone(ok, body.length)
  }
  writer.on('error', () => settle(false))
  writer.end(body)
  finished(writer, (err) => settle(!err))
}
