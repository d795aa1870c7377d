// Issue 27's benchmark: a route's `helmet` headers are computed once, by helmet's own middleware, and set
// by one hook on every request, where @fastify/helmet rebuilt helmet's middleware per request. The answer
// must not change: for each config, the headers on the wire (names as spelled, values, order) are those
// the real @fastify/helmet puts on the same route, and so are they through the gateway.
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import helmetPlugin from '@fastify/helmet'
import { startOrigin } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import type { HelmetConfig } from '../src/config/security.js'
import { resolveConfig, startGateway } from '../src/index.js'
import { helmetSteps, registerHelmet } from '../src/routes/helmet-headers.js'
import { rawHead } from './helpers/raw-head.js'

const CONFIGS: HelmetConfig[] = [
  {},
  { contentSecurityPolicy: false },
  {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", 'cdn.example.org'],
        upgradeInsecureRequests: null,
      },
    },
    strictTransportSecurity: { maxAge: 600, includeSubDomains: false, preload: true },
  },
  { contentSecurityPolicy: { reportOnly: true, useDefaults: true, directives: { imgSrc: ['*'] } } },
  {
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: ['origin', 'unsafe-url'] },
    crossOriginEmbedderPolicy: true,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    xDnsPrefetchControl: { allow: true },
    xPermittedCrossDomainPolicies: { permittedPolicies: 'master-only' },
  },
  { originAgentCluster: false, xXssProtection: false, xContentTypeOptions: false, xDownloadOptions: false },
]

/** The raw header lines of a GET to `url` (names as sent), Date left out. */
const rawHeaders = async (url: string): Promise<string[][]> => (await rawHead(url)).fields

async function listen(t: { after(fn: () => unknown): void }, app: FastifyInstance): Promise<string> {
  t.after(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`
}

/** A route answering like a proxied one would (its own headers, an x-powered-by), with `setup` around it. */
async function app(t: { after(fn: () => unknown): void }, setup: (i: FastifyInstance) => Promise<void>) {
  const f = Fastify()
  await f.register(async (child) => {
    await setup(child)
    child.get('/', (_request, reply) => {
      reply.header('content-type', 'text/plain').header('x-powered-by', 'origin').send('ok')
    })
  })
  return listen(t, f)
}

test('the recorded helmet headers are @fastify/helmet’s, config by config', async (t) => {
  for (const options of CONFIGS) {
    assert.notEqual(helmetSteps(options), null, 'a config of data is computed once')
    const plugin = await app(t, async (i) => {
      await i.register(helmetPlugin, { ...options, global: true })
    })
    const ours = await app(t, (i) => registerHelmet(i, options))
    const expected = await rawHeaders(plugin)
    assert.ok(expected.some(([n]) => n === 'X-Frame-Options' || n === 'Cross-Origin-Opener-Policy'))
    assert.deepEqual(await rawHeaders(ours), expected, JSON.stringify(options))
  }
})

test('through the gateway, a helmet route sends the plugin’s headers on a proxied answer', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': '2',
        'x-frame-options': 'ALLOWALL',
      })
      res.end('ok')
    },
  })
  t.after(() => origin.close())
  const options = CONFIGS[2]!
  const config = resolveConfig({
    reverse: { listen: '127.0.0.1:0', routes: [{ prefix: '/', upstreams: [origin.url], helmet: options }] },
    admin: { listen: '127.0.0.1:0' },
    log: { access: false, level: 'silent' },
  })
  const gateway = await startGateway(config)
  t.after(() => gateway.close(0))
  const plugin = await app(t, async (i) => {
    await i.register(helmetPlugin, { ...options, global: true })
  })
  const theirs = new Map((await rawHeaders(plugin)).map(([n, v]) => [n, v]))
  const got = new Map((await rawHeaders(`${gateway.listeners.reverse!.url}/`)).map(([n, v]) => [n, v]))
  let compared = 0
  for (const [name, value] of theirs) {
    if (!/^(content-security|strict-transport|x-|cross-origin|origin-agent|referrer)/i.test(name)) continue
    if (name === 'x-powered-by') continue
    assert.equal(got.get(name), value, name)
    compared++
  }
  assert.ok(compared >= 10, `compared ${compared} helmet headers`)
  assert.equal(got.get('X-Frame-Options'), 'SAMEORIGIN', 'helmet’s value replaces the upstream’s')
})

test('options whose values depend on the request keep the plugin', () => {
  const nonce = () => "'nonce-x'"
  assert.equal(
    helmetSteps({ contentSecurityPolicy: { directives: { scriptSrc: ["'self'", nonce] } } } as never),
    null,
  )
})
