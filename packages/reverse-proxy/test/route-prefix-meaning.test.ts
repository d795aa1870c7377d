import assert from 'node:assert/strict'
import { test } from 'node:test'
import httpProxy from '@fastify/http-proxy'
import { startOrigin } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import reverseProxy from '../src/index.js'
import { client, get } from './helpers.js'

// '/api?x=1' is left out: @fastify/http-proxy sends '/api?x=1' for it (its path '' plus the query, resolved
// by reply-from against the request's URL) though it sends '/' for '/api'; we send '/?x=1' (README).
const URLS = ['/api/users', '/api/users?x=1&y=2', '/api', '/api/', '/api/a/b/c']

async function listen(t: { after(fn: () => unknown): void }, app: FastifyInstance): Promise<string> {
  t.after(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
}

// A route `{ prefix: '/api' }` moved from @fastify/http-proxy must send the same path upstream: the same
// option name means the same thing (issue 21). The real @fastify/http-proxy is the reference.
for (const rewritePrefix of [undefined, '/', '/v2', '/api']) {
  test(`route prefix '/api' with rewritePrefix ${rewritePrefix ?? '(unset)'}: the path @fastify/http-proxy sends`, async (t) => {
    const origin = await startOrigin()
    t.after(() => origin.close())
    const theirs = Fastify()
    await theirs.register(httpProxy, {
      upstream: origin.url,
      prefix: '/api',
      ...(rewritePrefix === undefined ? {} : { rewritePrefix }),
    })
    const ours = Fastify()
    await ours.register(reverseProxy, {
      routes: [
        {
          prefix: '/api',
          upstreams: [origin.url],
          ...(rewritePrefix === undefined ? {} : { rewritePrefix }),
        },
      ],
    })
    const [theirBase, ourBase] = [await listen(t, theirs), await listen(t, ours)]
    const agent = client(t)
    for (const url of URLS) {
      const a = await get(agent, theirBase + url)
      const b = await get(agent, ourBase + url)
      assert.equal(a.status, 200, `@fastify/http-proxy ${url}`)
      assert.equal(b.status, 200, `ours ${url}`)
      assert.equal(
        (JSON.parse(b.text) as { url: string }).url,
        (JSON.parse(a.text) as { url: string }).url,
        `upstream path for ${url}`,
      )
    }
  })
}
