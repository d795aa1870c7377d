import type { FastifyReply, FastifyRequest } from 'fastify'
import { kOriginalTarget } from './context.js'

/**
 * RFC 9110 §7.6.2: every intermediary checks `Max-Forwards` on TRACE and OPTIONS, answers the request as
 * its final recipient when the value is 0 and decrements it otherwise. Returns the value received (the
 * caller sends `value - 1` on, or answers with `answerAsFinalRecipient` at 0), null when the header is
 * absent or the method is another, or 'invalid' (a 400) for anything but a decimal number.
 */
export function maxForwards(req: FastifyRequest['raw']): number | null | 'invalid' {
  const value = req.headers['max-forwards']
  if (value === undefined || (req.method !== 'TRACE' && req.method !== 'OPTIONS')) return null
  if (!/^[0-9]{1,10}$/.test(value as string)) return 'invalid'
  return Number(value)
}

// Never echoed back by TRACE: credentials and cookies (cross-site tracing).
const TRACE_HIDDEN = new Set(['authorization', 'proxy-authorization', 'cookie'])

/**
 * Answers a TRACE or OPTIONS whose Max-Forwards reached 0: OPTIONS with 200 and `Allow: methods`, TRACE
 * with 200 and the request as received (`message/http`, credentials and cookies left out).
 */
export function answerAsFinalRecipient(request: FastifyRequest, reply: FastifyReply, methods: string): void {
  const raw = request.raw
  if (raw.method === 'OPTIONS') {
    reply.code(200).header('allow', methods).header('content-length', '0').send()
    return
  }
  const target = (raw as { [kOriginalTarget]?: string })[kOriginalTarget] ?? raw.url
  let message = `${raw.method} ${target} HTTP/${raw.httpVersion}\r\n`
  for (let i = 0; i < raw.rawHeaders.length; i += 2) {
    if (!TRACE_HIDDEN.has(raw.rawHeaders[i]!.toLowerCase()))
      message += `${raw.rawHeaders[i]}: ${raw.rawHeaders[i + 1]}\r\n`
  }
  reply.code(200).type('message/http').send(`${message}\r\n`)
}
