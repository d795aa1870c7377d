import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'

// Every read of another library's internals in @proxykit/forward-proxy, in this one file: the symbol under
// which Fastify keeps a context's request-id generator. `test/internals.test.ts` checks it against the
// real Fastify, so an upgrade that moves it fails there (the plugin itself falls back to a child-logger
// factory, slower but correct).

/** A request-id generator as Fastify keeps it. */
export type GenReqId = (req: IncomingMessage) => string

/**
 * The symbol of Fastify's request-id generator (`instance[kGenReqId]`, inherited by child contexts; the
 * one the router calls first for a matched route), or null where this Fastify has none.
 */
export function genReqIdSymbol(instance: FastifyInstance): symbol | null {
  for (let o: object | null = instance; o !== null; o = Object.getPrototypeOf(o))
    for (const s of Object.getOwnPropertySymbols(o))
      if (s.description === 'fastify.genReqId' && typeof (o as Record<symbol, unknown>)[s] === 'function')
        return s
  return null
}

/** Sets `instance`'s own request-id generator under Fastify's symbol (routes declared in it use it). */
export function setGenReqId(instance: FastifyInstance, key: symbol, fn: GenReqId): void {
  ;(instance as unknown as Record<symbol, GenReqId>)[key] = fn
}

/** The request-id generator `instance` has now (its own or inherited). */
export function getGenReqId(instance: FastifyInstance, key: symbol): GenReqId {
  return (instance as unknown as Record<symbol, GenReqId>)[key]!
}
