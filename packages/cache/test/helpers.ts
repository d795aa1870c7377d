import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { BadGatewayError, relay, sendError, sendUpstreamResponse, stripHopByHop } from '@proxykit/core'
import { type Origin, type OriginHandler, startOrigin } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Agent, request } from 'undici'
import cache, { type CacheOptions } from '../src/index.js'

/** How the test proxy answers: core's `relay` (as both proxies do) or the older `sendUpstreamResponse`. */
export type ProxyShape = 'relay' | 'send'

export const SHAPES: readonly ProxyShape[] = ['relay', 'send']

/**
 * The smallest proxy there is, built the way @proxykit/reverse-proxy and forward-proxy answer: an undici
 * dispatcher and core's `relay` on the route's answer path (so the cache's response filter runs on the path
 * users run). `shape: 'send'` answers through `request()` + `sendUpstreamResponse` instead, the shape
 * plain users of core's helpers have. Absolute-form requests go to their own target (a forward proxy);
 * the rest go to `origin`.
 */
export function addTestProxy(
  app: FastifyInstance,
  originUrl: string,
  prefix = '/*',
  shape: ProxyShape = 'relay',
): Agent {
  const upstream = new Agent({ keepAliveTimeout: 1000 })
  app.addHook('onClose', async () => upstream.close())
  app.all(prefix, (req, reply) => {
    const t = req.proxy.target
    const origin = t !== null ? `${t.scheme}://${t.authority}` : originUrl
    const path = t !== null ? t.path : (req.raw.url ?? '/')
    const headers = stripHopByHop(req.headers)
    delete headers.host
    // The test proxy forwards no request body (Fastify has consumed it): nor its framing.
    delete headers['content-length']
    // Not hijacked: core answers on the route's path once the upstream's head is there, as the proxies do.
    if (shape === 'relay') {
      relay(upstream, { origin, path, method: req.raw.method ?? 'GET', headers, body: null }, req, reply, {
        headers: (_status, h) => stripHopByHop(h),
        failed: (err) => sendError(reply, new BadGatewayError(err.message, { cause: err })),
        // The upstream failed mid-body (or the client left): cut the client's response short.
        done: (err) => {
          if (err !== null && !reply.raw.destroyed) reply.raw.destroy()
        },
      })
      return
    }
    request(`${origin}${path}`, {
      method: req.raw.method as 'GET',
      headers: headers as Record<string, string>,
      dispatcher: upstream,
    }).then(
      (res) =>
        sendUpstreamResponse(req, reply, {
          statusCode: res.statusCode,
          headers: stripHopByHop(res.headers),
          body: res.body,
        }),
      (err: Error) => sendError(reply, new BadGatewayError(err.message, { cause: err })),
    )
  })
  return upstream
}

export interface Setup {
  origin: Origin
  app: FastifyInstance
  url: string
  get(path: string, headers?: Record<string, string>, method?: string): Promise<Res>
}

export interface Res {
  status: number
  headers: Record<string, string>
  body: string
}

/** An origin that counts hits, a Fastify app with the cache in front of a test proxy, and a client. */
export async function setup(
  t: TestContext,
  handler: OriginHandler,
  options: CacheOptions = {},
  configure?: (app: FastifyInstance) => void,
  fastifyOptions: FastifyServerOptions = {},
  shape: ProxyShape = 'relay',
): Promise<Setup> {
  const origin = await startOrigin({ handler })
  t.after(() => origin.close())
  const app = Fastify(fastifyOptions)
  await app.register(cache, options)
  if (configure) configure(app)
  else addTestProxy(app, origin.url, '/*', shape)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  const client = new Agent()
  t.after(() => client.close())
  return {
    origin,
    app,
    url,
    get: (path, headers = {}, method = 'GET') => fetchOnce(client, `${url}${path}`, headers, method),
  }
}

/** `setup` with the test proxy answering in `shape` (to run a behaviour through both proxy shapes). */
export function setupFor(shape: ProxyShape) {
  return (
    t: TestContext,
    handler: OriginHandler,
    options: CacheOptions = {},
    configure?: (app: FastifyInstance) => void,
    fastifyOptions: FastifyServerOptions = {},
  ): Promise<Setup> => setup(t, handler, options, configure, fastifyOptions, shape)
}

export async function fetchOnce(
  dispatcher: Agent,
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Res> {
  const res = await request(url, { method: method as 'GET', headers, dispatcher })
  const body = await res.body.text()
  const h: Record<string, string> = {}
  for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(', ') : String(v)
  return { status: res.statusCode, headers: h, body }
}

/** An origin handler answering `body` with `headers`, counting on the origin's own `hits`. */
export function respond(
  headers: Record<string, string | string[]>,
  body = 'hello',
  status = 200,
): OriginHandler {
  return (_req, res) => {
    res.writeHead(status, {
      'content-type': 'text/plain',
      'content-length': Buffer.byteLength(body),
      ...headers,
    })
    res.end(body)
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
