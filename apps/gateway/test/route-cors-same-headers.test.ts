// Issue 27's benchmark: for any request but a preflight, a route's CORS headers are recorded from
// @fastify/cors once per origin when the route is built and replayed by one hook (routes/cors-headers.ts),
// where the plugin's hook did its whole work per request. The answer must not change: for each config and
// each kind of request (listed origin, other origin, none, a POST, preflights, an upstream Vary), the
// header lines on the wire (names as sent, values, order) are those of the real plugin on the same route.
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import corsPlugin from '@fastify/cors'
import Fastify, { type FastifyInstance } from 'fastify'
import type { CorsConfig } from '../src/config/security.js'
import { registerCors } from '../src/routes/cors-headers.js'
import { rawHead } from './helpers/raw-head.js'

const CONFIGS: CorsConfig[] = [
  {
    origin: ['http://app.test', 'http://b.test'],
    credentials: true,
    methods: null,
    allowedHeaders: null,
    exposedHeaders: null,
    maxAge: null,
    strictPreflight: true,
  },
  {
    origin: true,
    credentials: false,
    methods: ['GET', 'PUT'],
    allowedHeaders: null,
    exposedHeaders: ['x-a', 'x-b'],
    maxAge: null,
    strictPreflight: true,
  },
  {
    origin: '*',
    credentials: false,
    methods: null,
    allowedHeaders: ['x-c'],
    exposedHeaders: null,
    maxAge: 600,
    strictPreflight: false,
  },
  {
    origin: 'http://app.test',
    credentials: true,
    methods: null,
    allowedHeaders: null,
    exposedHeaders: ['x-a'],
    maxAge: null,
    strictPreflight: true,
  },
]

const REQUESTS: Array<{ method: string; headers: Record<string, string> }> = [
  { method: 'GET', headers: {} },
  { method: 'GET', headers: { origin: 'http://app.test' } },
  { method: 'GET', headers: { origin: 'http://b.test' } },
  { method: 'GET', headers: { origin: 'http://other.test' } },
  { method: 'POST', headers: { origin: 'http://app.test' } },
  { method: 'GET', headers: { origin: 'http://app.test', 'x-upstream-vary': '1' } },
  { method: 'OPTIONS', headers: { origin: 'http://app.test', 'access-control-request-method': 'PUT' } },
  {
    method: 'OPTIONS',
    headers: {
      origin: 'http://other.test',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'x-d',
    },
  },
  { method: 'OPTIONS', headers: { origin: 'http://app.test' } },
]

/** The status and raw header lines of a request (names as sent), Date left out. */
async function ask(url: string, method: string, headers: Record<string, string>): Promise<string[]> {
  const { status, fields } = await rawHead(url, { method, headers })
  return [String(status), ...fields.map(([n, v]) => `${n}: ${v}`)]
}

/** A route answering like a proxied one would, a Vary set by a hook before CORS's on request. */
async function app(t: { after(fn: () => unknown): void }, setup: (i: FastifyInstance) => Promise<void>) {
  const f = Fastify()
  await f.register(async (child) => {
    child.addHook('onRequest', (request, reply, done) => {
      if (request.headers['x-upstream-vary'] !== undefined) reply.header('vary', 'accept-encoding')
      done()
    })
    await setup(child)
    child.all('/', (_request, reply) => {
      reply.header('content-type', 'text/plain').send('ok')
    })
  })
  t.after(() => f.close())
  await f.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(f.server.address() as AddressInfo).port}/`
}

test('the replayed CORS headers are @fastify/cors’s, config by config and request by request', async (t) => {
  for (const c of CONFIGS) {
    const { origin: o, credentials, strictPreflight, methods, allowedHeaders, exposedHeaders, maxAge } = c
    const plugin = await app(t, async (i) => {
      await i.register(corsPlugin, {
        origin: o,
        credentials,
        strictPreflight,
        ...(methods === null ? {} : { methods }),
        ...(allowedHeaders === null ? {} : { allowedHeaders }),
        ...(exposedHeaders === null ? {} : { exposedHeaders }),
        ...(maxAge === null ? {} : { maxAge }),
      })
    })
    const ours = await app(t, (i) => registerCors(i, c))
    let withCors = 0
    for (const r of REQUESTS) {
      const expected = await ask(plugin, r.method, r.headers)
      if (expected.some((l) => l.startsWith('access-control-'))) withCors++
      assert.deepEqual(
        await ask(ours, r.method, r.headers),
        expected,
        `${JSON.stringify(c)} ${JSON.stringify(r)}`,
      )
    }
    assert.ok(withCors >= 4, `the plugin set CORS headers on ${withCors} answers`)
  }
})
