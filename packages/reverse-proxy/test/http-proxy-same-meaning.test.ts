import assert from 'node:assert/strict'
import { test } from 'node:test'
import fastifyHttpProxy from '@fastify/http-proxy'
import { type Origin, startOrigin } from '@proxykit/core/testing'
import Fastify, { type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify'
import { request } from 'undici'
import ourHttpProxy from '../src/http-proxy.js'

// One table of scenarios, run against the real @fastify/http-proxy and against our drop-in entry: each
// must give the same observable result (status, body, the headers that matter, what the upstream saw).
// That is what "moving is changing the import" means, option by option.

interface Origins {
  main: Origin
  other: Origin
}
interface Case {
  name: string
  options: (o: Origins) => Record<string, unknown>
  method?: string
  url: string
  headers?: Record<string, string>
  body?: string
  /** Part of the result, checked too, so a scenario cannot pass by both sides failing alike. */
  expect: Partial<Observed>
}
interface Observed {
  status: number
  /** The request the upstream received: `origin-name method url`, or null when none arrived. */
  upstream: string | null
  body: string
  location: string | undefined
  added: string | undefined
  upstreamHeaders: Record<string, string | undefined>
}

const CASES: Case[] = [
  {
    name: 'prefix: stripped upstream',
    options: (o) => ({ upstream: o.main.url, prefix: '/api' }),
    url: '/api/users',
    expect: { upstream: 'main GET /users' },
  },
  {
    name: 'rewritePrefix replaces the prefix',
    options: (o) => ({ upstream: o.main.url, prefix: '/api', rewritePrefix: '/v2' }),
    url: '/api/users?x=1',
    expect: { upstream: 'main GET /v2/users?x=1' },
  },
  {
    name: 'a path on upstream is the default rewritePrefix',
    options: (o) => ({ upstream: `${o.main.url}/base`, prefix: '/api' }),
    url: '/api/users',
    expect: { upstream: 'main GET /base/users' },
  },
  {
    name: 'no prefix: the path as it came',
    options: (o) => ({ upstream: o.main.url }),
    url: '/x/y?z=1',
    expect: { upstream: 'main GET /x/y?z=1' },
  },
  {
    name: 'the prefix alone',
    options: (o) => ({ upstream: o.main.url, prefix: '/api' }),
    url: '/api',
    expect: { upstream: 'main GET /' },
  },
  {
    name: 'httpMethods: other methods are not routed',
    options: (o) => ({ upstream: o.main.url, httpMethods: ['GET'] }),
    method: 'POST',
    url: '/x',
    body: '{}',
    headers: { 'content-type': 'application/json' },
    expect: { status: 404, upstream: null },
  },
  {
    name: 'a JSON body reaches the upstream as sent',
    options: (o) => ({ upstream: o.main.url, prefix: '/api' }),
    method: 'POST',
    url: '/api/items',
    body: '{"a":1}',
    headers: { 'content-type': 'application/json' },
    expect: { upstream: 'main POST /items {"a":1}' },
  },
  {
    name: 'preHandler can answer instead of the upstream',
    options: (o) => ({
      upstream: o.main.url,
      preHandler: (_req: FastifyRequest, reply: FastifyReply, done: () => void) => {
        reply.code(403).send('pre-handled')
        done()
      },
    }),
    url: '/x',
    expect: { status: 403, body: 'pre-handled', upstream: null },
  },
  {
    name: 'preValidation runs before the proxy',
    options: (o) => ({
      upstream: o.main.url,
      preValidation: async (req: FastifyRequest, reply: FastifyReply) => {
        if (req.headers['x-deny'] !== undefined) return reply.code(401).send('validated')
      },
    }),
    url: '/x',
    headers: { 'x-deny': '1' },
    expect: { status: 401, body: 'validated', upstream: null },
  },
  {
    name: 'config is the route config; rewriteRequestHeaders sets what the upstream gets',
    options: (o) => ({
      upstream: o.main.url,
      config: { tag: 'from-config' },
      replyOptions: {
        rewriteRequestHeaders: (req: FastifyRequest, headers: Record<string, unknown>) => ({
          ...headers,
          'x-tag': (req.routeOptions.config as { tag?: string }).tag,
        }),
      },
    }),
    url: '/x',
    expect: { upstreamHeaders: { 'x-tag': 'from-config', 'x-forwarded-for': undefined } },
  },
  {
    name: 'replyOptions.rewriteHeaders sets the response headers',
    options: (o) => ({
      upstream: o.main.url,
      replyOptions: {
        rewriteHeaders: (headers: Record<string, unknown>, req: FastifyRequest) => ({
          ...headers,
          'x-added': req.url,
        }),
      },
    }),
    url: '/x?q=1',
    expect: { added: '/x?q=1' },
  },
  {
    name: 'replyOptions.queryString as an object replaces the query',
    options: (o) => ({ upstream: o.main.url, replyOptions: { queryString: { a: '1', b: 'x y' } } }),
    url: '/x?c=3',
    expect: { upstream: 'main GET /x?a=1&b=x%20y' },
  },
  {
    name: 'replyOptions.queryString as a function returns the query',
    options: (o) => ({
      upstream: o.main.url,
      replyOptions: {
        queryString: (search: string, reqUrl: string) =>
          `s=${encodeURIComponent(search)}&u=${encodeURIComponent(reqUrl)}`,
      },
    }),
    url: '/x?c=3',
    expect: { upstream: 'main GET /x?s=&u=%2Fx%3Fc%3D3' },
  },
  {
    name: 'Location inside rewritePrefix is mapped back under the prefix',
    options: (o) => ({ upstream: o.main.url, prefix: '/api', rewritePrefix: '/v2' }),
    url: '/api/redirect',
    expect: { status: 302, location: '/api/next' },
  },
  {
    name: 'replyOptions.onError answers an unreachable upstream',
    options: () => ({
      upstream: 'http://127.0.0.1:1',
      replyOptions: {
        onError: (reply: FastifyReply, { error }: { error: { statusCode: number } }) => {
          reply.code(418).send(`handled ${error.statusCode >= 500}`)
        },
      },
    }),
    url: '/x',
    expect: { status: 418, body: 'handled true', upstream: null },
  },
  {
    name: 'constraints: a request outside them is not routed',
    options: (o) => ({ upstream: o.main.url, constraints: { host: 'a.test' } }),
    url: '/x',
    headers: { host: 'b.test' },
    expect: { status: 404, upstream: null },
  },
  {
    name: 'constraints: a request within them is',
    options: (o) => ({ upstream: o.main.url, constraints: { host: 'a.test' } }),
    url: '/x',
    headers: { host: 'a.test' },
    expect: { status: 200, upstream: 'main GET /x' },
  },
]

async function namedOrigin(name: string): Promise<Origin> {
  return startOrigin({
    handler: (req, res, body) => {
      if (req.url?.includes('redirect')) {
        res.writeHead(302, { location: req.url.replace('redirect', 'next'), 'content-length': '0' })
        res.end()
        return
      }
      const text = `${name} ${req.method} ${req.url}${body.length > 0 ? ` ${body}` : ''}`
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': text })
      res.end(text)
    },
  })
}

async function observe(
  t: { after(fn: () => unknown): void },
  plugin: FastifyPluginAsync<never>,
  c: Case,
  origins: Origins,
): Promise<Observed> {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(plugin, c.options(origins) as never)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const before = origins.main.requests.length + origins.other.requests.length
  const res = await request(`http://127.0.0.1:${(app.server.address() as { port: number }).port}${c.url}`, {
    method: (c.method ?? 'GET') as 'GET',
    headers: c.headers,
    body: c.body,
  })
  const body = await res.body.text()
  // Each scenario sends one request: the newest one either origin received is its.
  const all = [...origins.main.requests, ...origins.other.requests]
  const sent = all.length > before ? all[all.length - 1] : undefined
  const upstreamHeaders: Record<string, string | undefined> = {}
  for (const name of ['x-tag', 'x-forwarded-for'])
    upstreamHeaders[name] = sent?.headers[name] as string | undefined
  return {
    status: res.statusCode,
    upstream: (res.headers['x-upstream'] as string | undefined) ?? null,
    body: res.statusCode === 200 ? '' : body,
    location: res.headers.location as string | undefined,
    added: res.headers['x-added'] as string | undefined,
    upstreamHeaders,
  }
}

for (const c of CASES) {
  test(`same meaning as @fastify/http-proxy: ${c.name}`, async (t) => {
    const origins = { main: await namedOrigin('main'), other: await namedOrigin('other') }
    t.after(() => Promise.all([origins.main.close(), origins.other.close()]))
    const theirs = await observe(t, fastifyHttpProxy as never, c, origins)
    const ours = await observe(t, ourHttpProxy as never, c, origins)
    const { upstreamHeaders: expectedHeaders, ...expected } = c.expect
    assert.deepEqual(
      { ...theirs, upstreamHeaders: undefined },
      { ...theirs, ...expected, upstreamHeaders: undefined },
      '@fastify/http-proxy itself',
    )
    if (expectedHeaders !== undefined)
      assert.deepEqual(
        { ...theirs.upstreamHeaders, ...expectedHeaders },
        theirs.upstreamHeaders,
        '@fastify/http-proxy itself',
      )
    assert.deepEqual(ours, theirs)
  })
}

// reply-from documents getUpstream as choosing the target; @fastify/http-proxy 11 with its default undici
// pool calls it with the configured upstream but still sends to that upstream. Ours sends where it says.
test('replyOptions.getUpstream gets the configured upstream as base; ours sends to the origin it returns', async (t) => {
  const origins = { main: await namedOrigin('main'), other: await namedOrigin('other') }
  t.after(() => Promise.all([origins.main.close(), origins.other.close()]))
  const bases: string[][] = [[], []]
  const run = (plugin: unknown, seen: string[]) =>
    observe(
      t,
      plugin as never,
      {
        name: 'getUpstream',
        options: (o) => ({
          upstream: `${o.main.url}/base`,
          prefix: '/api',
          replyOptions: {
            getUpstream: (_req: FastifyRequest, base: string) => {
              seen.push(base)
              return o.other.url
            },
          },
        }),
        url: '/api/users',
        expect: {},
      },
      origins,
    )
  const theirs = await run(fastifyHttpProxy, bases[0]!)
  const ours = await run(ourHttpProxy, bases[1]!)
  assert.deepEqual(bases, [[`${origins.main.url}/base`], [`${origins.main.url}/base`]])
  assert.equal(theirs.upstream, 'main GET /base/users', '@fastify/http-proxy 11.6 as measured')
  assert.equal(ours.upstream, 'other GET /base/users')
})
