import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, namedOrigins, startProxy } from './helpers.js'

test('getUpstream(request, base) picks the upstream: the balanced base, a sibling, or another origin', async (t) => {
  const [a, b] = await namedOrigins(t, 2)
  const elsewhere = await startOrigin({
    handler: (_req, res) => {
      res.end('elsewhere')
    },
  })
  t.after(() => elsewhere.close())
  const bases: string[] = []
  const proxy = await startProxy(t, {
    routes: [
      {
        upstreams: [a!.url, b!.url],
        balancer: 'round-robin',
        getUpstream: (request, base) => {
          bases.push(base)
          const to = request.headers['x-to']
          if (to === 'b') return b!.url
          if (to === 'elsewhere') return `${elsewhere.url}/ignored-path`
          if (to === 'bad') return 'ftp://127.0.0.1:1'
          return base
        },
      },
    ],
  })
  const agent = client(t)
  assert.equal((await get(agent, `${proxy.url}/x`, { headers: { 'x-to': 'b' } })).text, 'origin-1')
  assert.equal((await get(agent, `${proxy.url}/x`, { headers: { 'x-to': 'b' } })).text, 'origin-1')
  assert.equal((await get(agent, `${proxy.url}/x`, { headers: { 'x-to': 'elsewhere' } })).text, 'elsewhere')
  assert.equal(elsewhere.requests[0]!.url, '/x', 'only the origin of what it returns counts')
  // Returning base keeps the balancer's choice.
  const balanced = [(await get(agent, `${proxy.url}/x`)).text, (await get(agent, `${proxy.url}/x`)).text]
  assert.deepEqual(balanced.sort(), ['origin-0', 'origin-1'])
  assert.deepEqual(new Set(bases), new Set([a!.url, b!.url]), 'base is the balanced pick')
  const bad = await get(agent, `${proxy.url}/x`, { headers: { 'x-to': 'bad' } })
  assert.equal(bad.status, 502)
  // Fastify's JSON error body since errors go through its error handler: the quotes are escaped there.
  assert.match(
    JSON.parse(bad.text).message,
    /getUpstream returned "ftp:\/\/127\.0\.0\.1:1", not an http\(s\) URL/,
  )
})

test('a hook that is not a function fails at registration, named', async (t) => {
  await assert.rejects(
    startProxy(t, { routes: [{ upstreams: ['http://127.0.0.1:1'], getUpstream: 'http://x' as never }] }),
    { message: '@proxykit/reverse-proxy: routes[0].getUpstream: must be a function' },
  )
  await assert.rejects(
    startProxy(t, { rewriteHeaders: {} as never, routes: [{ upstreams: ['http://127.0.0.1:1'] }] }),
    {
      message: '@proxykit/reverse-proxy: rewriteHeaders: must be a function',
    },
  )
  await assert.rejects(
    startProxy(t, { onError: {} as never, routes: [{ upstreams: ['http://127.0.0.1:1'] }] }),
    { message: '@proxykit/reverse-proxy: onError: must be a function' },
  )
})
