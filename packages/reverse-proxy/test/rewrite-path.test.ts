import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import type { FastifyRequest } from 'fastify'
import { client, get, startProxy } from './helpers.js'

test('rewritePath(request, path) decides the path sent upstream, after rewritePrefix', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const seen: Array<{ client: string; path: string }> = []
  const proxy = await startProxy(t, {
    routes: [
      {
        prefix: '/api',
        rewritePrefix: '/v1',
        upstreams: [origin.url],
        rewritePath: (request: FastifyRequest, path) => {
          seen.push({ client: request.url, path })
          return path.startsWith('/v1/legacy') ? `/old${path.slice(10)}` : path.slice(1)
        },
      },
    ],
  })
  const agent = client(t)
  await get(agent, `${proxy.url}/api/legacy/x?q=1`)
  await get(agent, `${proxy.url}/api/users`)
  assert.deepEqual(seen, [
    { client: '/api/legacy/x?q=1', path: '/v1/legacy/x?q=1' },
    { client: '/api/users', path: '/v1/users' },
  ])
  assert.deepEqual(
    origin.requests.map((r) => r.url),
    ['/old/x?q=1', '/v1/users'],
    "a path without the leading '/' gets one",
  )
})
