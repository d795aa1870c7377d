// Vary is a list both sides add to (RFC 9110, 12.5.5): when an app's hook sets `Vary` (@fastify/cors adds
// `Origin`) and the upstream sent its own (`Accept-Encoding`), the answer names both, on the raw fast path
// and on Fastify's path alike. Under "the hook wins" alone the upstream's names were lost, and a cache in
// front of the proxy would serve one encoding to every client.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import cors from '@fastify/cors'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

function varyNames(value: unknown): string[] {
  return String(value)
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '')
    .sort()
}

for (const path of ['fast path', 'onSend path'] as const) {
  test(`a hook's Vary and the upstream's are joined (${path})`, async (t) => {
    const origin = await startOrigin({
      handler: (req, res) => {
        const vary = req.url?.endsWith('/star') ? '*' : 'Accept-Encoding, origin'
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5', vary })
        res.end('hello')
      },
    })
    t.after(() => origin.close())
    const proxy = await startProxy(
      t,
      { routes: [{ name: 'app', prefix: '/app', upstreams: [origin.url] }] },
      {
        before: async (app) => {
          await app.register(cors, { origin: ['https://front.test', 'https://other.test'] })
          app.addHook('onRequest', async (request, reply) => {
            if (request.headers['x-raw'] === '1') reply.raw.setHeader('vary', 'X-Raw')
          })
          if (path === 'onSend path') app.addHook('onSend', async (_request, _reply, payload) => payload)
        },
      },
    )
    const agent = client(t)
    const joined = await get(agent, `${proxy.url}/app/x`, { headers: { origin: 'https://front.test' } })
    assert.equal(joined.status, 200)
    assert.equal(joined.text, 'hello')
    assert.equal(joined.headers['access-control-allow-origin'], 'https://front.test')
    assert.deepEqual(varyNames(joined.headers.vary), ['accept-encoding', 'origin'], 'each name once')

    const star = await get(agent, `${proxy.url}/app/star`, { headers: { origin: 'https://front.test' } })
    assert.equal(star.headers.vary, '*')

    if (path === 'fast path') {
      const raw = await get(agent, `${proxy.url}/app/x`, {
        headers: { origin: 'https://front.test', 'x-raw': '1' },
      })
      assert.deepEqual(varyNames(raw.headers.vary), ['accept-encoding', 'origin', 'x-raw'])
    }
  })
}
