import { once } from 'node:events'
import net from 'node:net'

export interface RawResponse {
  /** Everything the server sent until it closed or `idleMs` passed with nothing new. */
  raw: Buffer
  /** The status code of the first response, or 0. */
  statusCode: number
  /** The first response's head, lower-case header names (last value wins). */
  headers: Record<string, string>
  /** The first response's body bytes as received (chunked framing left in place). */
  body: Buffer
  text: string
}

/**
 * Sends exact bytes and collects what comes back: for malformed requests, smuggling shapes and anything
 * an HTTP client library would refuse to send. Resolves when the server closes, when it goes quiet for
 * `idleMs` (default 300) after it started answering, or after `timeoutMs` (default 5000) in any case.
 * The quiet period only starts with the first byte, so a slow answer on a loaded machine is still read.
 */
export async function rawRequest(
  port: number,
  bytes: string | Buffer,
  options: { host?: string; idleMs?: number; timeoutMs?: number } = {},
): Promise<RawResponse> {
  const socket = net.connect(port, options.host ?? '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(bytes)
  const chunks: Buffer[] = []
  await new Promise<void>((resolve) => {
    let idle: NodeJS.Timeout | undefined
    const done = () => {
      clearTimeout(idle)
      clearTimeout(hard)
      socket.destroy()
      resolve()
    }
    const hard = setTimeout(done, options.timeoutMs ?? 5000)
    const arm = () => {
      clearTimeout(idle)
      idle = setTimeout(done, options.idleMs ?? 300)
    }
    socket.on('data', (c: Buffer) => {
      chunks.push(c)
      arm()
    })
    socket.on('close', done)
  })
  return parseRawResponse(Buffer.concat(chunks))
}

export function parseRawResponse(raw: Buffer): RawResponse {
  const text = raw.toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  const head = end === -1 ? text : text.slice(0, end)
  const lines = head.split('\r\n')
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '')
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':')
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  const body =
    end === -1 ? Buffer.alloc(0) : raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'))
  return { raw, statusCode: m ? Number(m[1]) : 0, headers, body, text }
}
