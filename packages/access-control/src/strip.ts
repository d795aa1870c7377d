import type { IncomingMessage } from 'node:http'

/**
 * Removes a header from a request in both places a proxy may read it: `headers` and `rawHeaders`.
 * Used for the credentials this plugin consumed, so that they never reach an upstream.
 */
export function removeCredentials(req: IncomingMessage, name: string): void {
  const lower = name.toLowerCase()
  if (req.headers[lower] === undefined) return
  delete req.headers[lower]
  const raw = req.rawHeaders
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (raw[i]!.toLowerCase() === lower) raw.splice(i, 2)
  }
}
