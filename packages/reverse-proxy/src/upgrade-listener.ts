import { type IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { absoluteToOriginForm } from './absolute-form.js'
import { kUpgradeHead } from './upgrade.js'

/** One registration of the plugin: the Fastify context it lives in and the path prefixes of its routes. */
interface Registration {
  fastify: FastifyInstance
  prefixes: readonly string[]
}

interface Listener {
  registrations: Set<Registration>
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void
}

// One 'upgrade' listener per server, whatever the number of registrations (several prefixes, sibling
// contexts): each registration's listener would otherwise see the others as foreign listeners and leave
// an upgrade no route of ours matches unanswered.
const listeners = new WeakMap<object, Listener>()

const matches = (prefixes: readonly string[], url: string) =>
  prefixes.some((p) => p === '/' || url === p || url.startsWith(`${p}/`) || url.startsWith(`${p}?`))

/**
 * Upgrade requests (WebSocket …) go through Fastify's routing like any request, so access control and
 * every other hook apply to them too. @fastify/websocket already does exactly that with its own
 * 'upgrade' listener: when it is registered we leave the event to it, so only one of us answers.
 * Returns the function that takes the registration off again.
 */
export function listenForUpgrades(fastify: FastifyInstance, prefixes: readonly string[]): () => void {
  const server = fastify.server
  let listener = listeners.get(server)
  if (listener === undefined) {
    const registrations = new Set<Registration>()
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      let any: Registration | undefined
      for (const r of registrations) {
        if (r.fastify.hasDecorator('websocketServer')) return
        any ??= r
      }
      if (any === undefined) return
      absoluteToOriginForm(req, server)
      // Another 'upgrade' listener (a bare `ws` server, say) owns the paths that are not ours.
      const url = req.url ?? '/'
      if (server.listenerCount('upgrade') > 1 && ![...registrations].some((r) => matches(r.prefixes, url)))
        return
      socket.on('error', () => socket.destroy())
      ;(req as IncomingMessage & Record<symbol, unknown>)[kUpgradeHead] = head
      const res = new ServerResponse(req)
      // Anything answered with a normal response (404, 403, an error) ends the connection after it.
      res.once('finish', () => socket.end())
      try {
        res.assignSocket(socket as never)
        any.fastify.routing(req, res)
      } catch (err) {
        any.fastify.log.warn({ err }, 'upgrade request failed')
        socket.destroy()
      }
    }
    listener = { registrations, onUpgrade }
    listeners.set(server, listener)
    server.on('upgrade', onUpgrade)
  }
  const registration: Registration = { fastify, prefixes }
  const own = listener
  own.registrations.add(registration)
  return () => {
    own.registrations.delete(registration)
    if (own.registrations.size === 0) {
      server.removeListener('upgrade', own.onUpgrade)
      listeners.delete(server)
    }
  }
}
