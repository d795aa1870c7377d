import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * An onRequest hook that lets a request through only with `Authorization: Bearer <token>`. Compared in
 * constant time (on digests, so the length does not leak either). Without a configured token every
 * mutating call is refused: there is no "open" admin API.
 */
export function requireToken(token: string | null) {
  const expected = token === null ? null : digest(token)
  return async function checkToken(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (expected === null) {
      await reply
        .code(403)
        .send({ error: 'admin.token is not configured: mutating admin calls are disabled' })
      return reply
    }
    const header = request.headers.authorization ?? ''
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (m === null || !timingSafeEqual(digest(m[1]!), expected)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="proxykit-admin"')
        .send({ error: 'a valid Bearer token is required' })
      return reply
    }
  }
}
