import type { AddressInfo } from 'node:net'
import { rawRequest } from '@proxykit/core/testing'
import forwardProxy from '@proxykit/forward-proxy'
import Fastify, { type FastifyInstance } from 'fastify'
import accessControl, { type AccessControlOptions } from '../src/index.js'

export interface App {
  app: FastifyInstance
  port: number
  url: string
}

/** Test names resolve here only (no real DNS): every one maps to a loopback address. */
export const TEST_NAMES: Record<string, string> = {
  localhost: '127.0.0.1',
  'good.test': '127.0.0.1',
  'rebind.test': '127.0.0.2',
  'xn--bcher-kva.test': '127.0.0.1',
}

/**
 * A Fastify app with access control and (unless `forward: false`) the real forward proxy, which lets
 * loopback through on its own so that access control alone decides. `setup` adds routes afterwards.
 */
export async function startApp(
  options: AccessControlOptions,
  setup?: (app: FastifyInstance) => void | Promise<void>,
  extra: {
    forward?: boolean
    connectPorts?: number[]
    trustProxy?: boolean
    parentProxy?: string
    /** Runs before any plugin (an error handler must be set before the contexts that inherit it). */
    before?: (app: FastifyInstance) => void
  } = {},
): Promise<App> {
  const app = Fastify({ trustProxy: extra.trustProxy ?? false })
  extra.before?.(app)
  await app.register(accessControl, options)
  if (extra.forward !== false) {
    await app.register(forwardProxy, {
      allow: ['loopback'],
      connectPorts: extra.connectPorts ?? [443],
      ...(extra.parentProxy === undefined ? {} : { parentProxy: extra.parentProxy }),
      lookup: async (name) => {
        const address = TEST_NAMES[name]
        if (address === undefined) throw new Error(`${name} is not a test name`)
        return [{ address, family: 4 }]
      },
    })
  }
  if (setup) await setup(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  return { app, port, url: `http://127.0.0.1:${port}` }
}

/** An absolute-form GET through the proxy, as exact bytes. */
export function forwardGet(target: string, headers: Record<string, string> = {}): string {
  const host = /^https?:\/\/([^/]+)/.exec(target)?.[1] ?? ''
  const lines = [`GET ${target} HTTP/1.1`, `Host: ${host}`, 'Connection: close']
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  return `${lines.join('\r\n')}\r\n\r\n`
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

/**
 * rawRequest with patience for a loaded machine: it resolves when the server closes (every request here
 * says `Connection: close`, and refused tunnels are closed), or after `idleMs` of silence (open tunnels).
 */
export function send(port: number, bytes: string, idleMs = 3000) {
  return rawRequest(port, bytes, { idleMs, timeoutMs: 20_000 })
}
