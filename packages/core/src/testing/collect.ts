import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'

/** Reads a stream (or an undici body) to one Buffer. */
export async function collectBody(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))
  return Buffer.concat(chunks)
}

/** Reads a stream to a string (utf8). */
export async function collectText(stream: AsyncIterable<Uint8Array | string>): Promise<string> {
  return (await collectBody(stream)).toString('utf8')
}

/** SHA-256 and length of a stream, without holding it in memory. */
export async function hashStream(
  stream: AsyncIterable<Uint8Array | string>,
): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256')
  let bytes = 0
  for await (const c of stream) {
    h.update(c)
    bytes += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength
  }
  return { sha256: h.digest('hex'), bytes }
}

/**
 * A deterministic stream of `size` pseudo-random bytes in `chunkSize` pieces, and its SHA-256 computed as
 * it is read (`digest()` once it has ended): for large-body tests that must not hold the body in memory.
 */
export function patternStream(size: number, chunkSize = 64 * 1024): Readable & { digest(): string } {
  const h = createHash('sha256')
  const block = Buffer.alloc(chunkSize)
  for (let i = 0; i < chunkSize; i++) block[i] = (i * 2654435761) >>> 24
  let sent = 0
  let n = 0
  const stream = new Readable({
    read() {
      if (sent >= size) {
        this.push(null)
        return
      }
      const len = Math.min(chunkSize, size - sent)
      const chunk = Buffer.from(block.subarray(0, len))
      chunk[0] = n++ & 0xff
      sent += len
      h.update(chunk)
      this.push(chunk)
    },
  })
  let digest: string | undefined
  return Object.assign(stream, {
    digest() {
      digest ??= h.digest('hex')
      return digest
    },
  })
}
