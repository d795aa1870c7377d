import type { IncomingMessage } from 'node:http'
import { ContentTooLargeError, sendError } from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'

// `bodyLimit` (nginx's client_max_body_size, Traefik's Buffering maxRequestBodyBytes, Caddy's
// request_body max_size). Bodies stream to the upstream unread, so Fastify's own bodyLimit never sees
// them: a declared length is checked here, and a chunked body is counted as it arrives.

function tooLarge(reply: FastifyReply, what: string): void {
  // The connection closes after the answer: the rest of the body is never read.
  sendError(reply, new ContentTooLargeError(what), { connection: 'close' })
  reply.request.raw.resume()
}

/** Answers 413 now when the declared length is over `limit` (true), else counts a chunked body. */
export function limitBody(request: FastifyRequest, reply: FastifyReply, limit: number): boolean {
  const req = request.raw
  const length = req.headers['content-length']
  if (length !== undefined && Number(length) > limit) {
    tooLarge(reply, `the body is ${length} bytes; this route takes at most ${limit}`)
    return true
  }
  if (req.headers['transfer-encoding'] === undefined || req.complete) return false
  // Counted where Node's parser hands each chunk to the request (its `push`), so that the stream's
  // reader (the proxy, later) is not changed and no 'data' listener puts it in flowing mode early.
  let received = 0
  const push = req.push
  req.push = function (this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk !== null && chunk !== undefined) {
      received += (chunk as Buffer).length
      if (received > limit) {
        req.push = push
        if (reply.raw.headersSent) reply.raw.destroy()
        else tooLarge(reply, `the body is over the ${limit} bytes this route takes`)
        return false
      }
    }
    return push.call(this, chunk, encoding)
  }
  return false
}
