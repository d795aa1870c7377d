import type { OutgoingHttpHeaders } from 'node:http'

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// field-value: HTAB, SP, VCHAR, obs-text. Above all no CR, LF or NUL: nothing may start a new line.
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/
// request-target: visible characters only, no SP or CTL to end it early or split the request line.
const INVALID_TARGET = /[^\x21-\x7e\x80-\xff]/
const LENGTH = /^[0-9]{1,15}$/

export type RequestHeaders = OutgoingHttpHeaders | Record<string, string | string[]>

/** A request head ready for the wire, and how its body is framed. */
export interface RequestHead {
  text: string
  /** The declared Content-Length, or -1 when a body is sent chunked (or there is none). */
  length: number
}

/**
 * Serialises a request head (RFC 9112 §3, §5), or says why it cannot be sent. Every name must be a token
 * and no value may contain CR, LF or another control character, whoever produced them; `Host` is added
 * from `authority` when absent, and a body of unknown length is sent chunked. `Transfer-Encoding` given
 * by the caller is dropped: this client frames the body itself.
 */
export function requestHead(
  method: string,
  path: string,
  headers: RequestHeaders | undefined,
  authority: string,
  hasBody: boolean,
): RequestHead | string {
  if (!TOKEN.test(method)) return `invalid method ${JSON.stringify(method)}`
  if (path.length === 0 || INVALID_TARGET.test(path)) return 'invalid request-target'
  let text = `${method} ${path} HTTP/1.1\r\n`
  let hasHost = false
  let length = -1
  if (headers !== undefined) {
    for (const name in headers) {
      const value = headers[name]
      if (value === undefined) continue
      if (!TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)}`
      const key = name.length === 4 || name.length === 14 || name.length === 17 ? name.toLowerCase() : ''
      if (key === 'host') hasHost = true
      else if (key === 'transfer-encoding') continue
      else if (key === 'content-length') {
        const v = String(value)
        if (!LENGTH.test(v)) return 'invalid Content-Length'
        length = Number(v)
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const v = String(value[i])
          if (INVALID_VALUE.test(v)) return `invalid value for header ${name}`
          text += `${name}: ${v}\r\n`
        }
      } else {
        const v = typeof value === 'string' ? value : String(value)
        if (INVALID_VALUE.test(v)) return `invalid value for header ${name}`
        text += `${name}: ${v}\r\n`
      }
    }
  }
  if (!hasHost) text += `host: ${authority}\r\n`
  if (hasBody && length === -1) text += 'transfer-encoding: chunked\r\n'
  return { text: `${text}\r\n`, length: hasBody ? length : -1 }
}
