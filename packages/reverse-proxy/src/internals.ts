import type { IncomingMessage } from 'node:http'

// Every read of another library's internals in @proxykit/reverse-proxy, in this one file: where
// @fastify/websocket keeps the bytes that came after an upgrade request's head when its own 'upgrade'
// listener routed the request (it owns the listener then, and ours stands aside). `test/internals.test.ts`
// checks it against the real @fastify/websocket.

/**
 * The bytes after the request head that @fastify/websocket kept on the request (`req[kWsHead]`, a
 * `Symbol('ws-head')`), possibly empty; undefined when it did not route this request or keeps them
 * elsewhere.
 */
export function websocketHead(req: IncomingMessage): Buffer | undefined {
  const r = req as IncomingMessage & Record<symbol, unknown>
  for (const s of Object.getOwnPropertySymbols(r)) {
    if (s.description === 'ws-head' && Buffer.isBuffer(r[s])) return r[s] as Buffer
  }
  return undefined
}
