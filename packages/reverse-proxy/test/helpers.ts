import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Origin, startOrigin } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Agent, request } from 'undici'
import reverseProxy, { type ReverseProxyOptions } from '../src/index.js'

export interface Proxy {
  app: FastifyInstance
  url: string
  port: number
}

/** A Fastify app with the plugin on a loopback port; `before` registers anything that goes first. */
export async function startProxy(
  t: TestContext,
  options: ReverseProxyOptions,
  hooks: {
    before?: (app: FastifyInstance) => unknown
    after?: (app: FastifyInstance) => unknown
  } = {},
  fastifyOptions: FastifyServerOptions = {},
): Promise<Proxy> {
  const app = Fastify({ logger: false, ...fastifyOptions })
  await hooks.before?.(app)
  await app.register(reverseProxy, options)
  await hooks.after?.(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const port = (app.server.address() as { port: number }).port
  return { app, url: `http://127.0.0.1:${port}`, port }
}

/** `n` origins that answer their own index (`origin-0` …) as the body. */
export async function namedOrigins(t: TestContext, n: number): Promise<Origin[]> {
  const list: Origin[] = []
  for (let i = 0; i < n; i++) {
    const o = await startOrigin({
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(`origin-${i}`.length) })
        res.end(`origin-${i}`)
      },
    })
    t.after(() => o.close())
    list.push(o)
  }
  return list
}

/**
 * Polls until `cond()` holds, at most `tries` times `intervalMs` apart, and returns its last value: a
 * liveness bound for state that changes in the background (health checks, ejections), not a speed
 * measurement.
 */
export async function waitUntil(cond: () => boolean, tries: number, intervalMs: number): Promise<boolean> {
  for (let i = 0; i < tries && !cond(); i++) await sleep(intervalMs)
  return cond()
}

/** A client with its own connection pool, closed after the test. */
export function client(t: TestContext): Agent {
  const agent = new Agent({ keepAliveTimeout: 1000 })
  t.after(() => agent.close())
  return agent
}

export async function get(
  agent: Agent,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const res = await request(url, {
    dispatcher: agent,
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers,
    body: init.body,
  })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

/** Counts of each body over `n` sequential GETs. */
export async function tally(
  agent: Agent,
  url: string,
  n: number,
  headers?: Record<string, string>,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const r = await get(agent, url, headers ? { headers } : {})
    const key = r.status === 200 ? r.text : `status-${r.status}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return counts
}
