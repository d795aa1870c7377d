import { type IncomingHttpHeaders, type ServerResponse, STATUS_CODES } from 'node:http'
import type { FastifyRequest } from 'fastify'
import { stripHopByHop } from './hop-by-hop.js'
import { rawWriter } from './internals.js'

/**
 * Passes an upstream's interim (1xx) response on to the client before the final one (RFC 9110 §15.2: a
 * proxy forwards 1xx responses it did not ask for itself). Not `100 Continue`: Node's server has already
 * answered the client's `Expect: 100-continue`, and a second one would be a stray response. Not to an
 * HTTP/1.0 client (§15.2: it has no 1xx). On HTTP/1.1 the head goes out as it came, every field line
 * kept, through the same raw write Node's own `writeEarlyHints()` and `writeProcessing()` use; on HTTP/2
 * only `103` is passed, through `writeEarlyHints()`. Hop-by-hop fields are dropped, as from any answer.
 * Nothing is written once the final head is out, and a response that cannot take it is left alone: an
 * interim response is advice, never worth failing the exchange for.
 */
export function writeInterim(
  request: FastifyRequest,
  res: ServerResponse,
  statusCode: number,
  headers: IncomingHttpHeaders,
  statusMessage: string,
): void {
  if (statusCode === 100 || statusCode === 101 || res.headersSent || res.destroyed) return
  const raw = request.raw
  if (raw.httpVersionMajor === 1 && raw.httpVersionMinor === 0) return
  const fields = stripHopByHop(headers)
  try {
    if (raw.httpVersionMajor === 1) {
      const write = rawWriter(res)
      if (write === null) return
      let head = `HTTP/1.1 ${statusCode} ${statusMessage || STATUS_CODES[statusCode] || ''}\r\n`
      for (const name in fields) {
        const v = fields[name]!
        if (Array.isArray(v)) for (const item of v) head += `${name}: ${item}\r\n`
        else head += `${name}: ${v}\r\n`
      }
      write(`${head}\r\n`, 'latin1')
    } else if (statusCode === 103 && fields.link !== undefined) {
      res.writeEarlyHints(fields as Record<string, string | string[]>)
    }
  } catch {
    // A Link value Node's HTTP/2 writer refuses: the hints are dropped, the answer is not.
  }
}
