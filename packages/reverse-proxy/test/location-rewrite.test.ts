// Location and Content-Location naming any upstream of the route, in any spelling of its origin, are
// rewritten to the origin the client addressed; behind a trusted TLS terminator that is its X-Forwarded-*.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, startProxy } from './helpers.js'

test('a redirect naming a sibling upstream, or an upstream in upper case, is rewritten; a foreign one is not', async (t) => {
  const ports: number[] = []
  const handler = (req: { url?: string }, res: import('node:http').ServerResponse) => {
    const [a, b] = ports
    const location =
      req.url === '/v1/sibling'
        ? `http://127.0.0.1:${b}/v1/there?q=%2F#top`
        : req.url === '/v1/upper'
          ? `HTTP://127.0.0.1:${a}/v1/UP`
          : req.url === '/v1/bare'
            ? `http://127.0.0.1:${a}`
            : 'http://elsewhere.example/v1/keep'
    res.writeHead(302, { location, 'content-location': location, 'content-length': '0' })
    res.end()
  }
  const one = await startOrigin({ handler })
  const two = await startOrigin({ handler })
  ports.push(one.port, two.port)
  t.after(() => Promise.all([one.close(), two.close()]))
  const proxy = await startProxy(t, {
    routes: [{ prefix: '/api', rewritePrefix: '/v1', upstreams: [one.url, two.url] }],
  })
  const agent = client(t)
  const expected: Record<string, string> = {
    sibling: 'http://public.test/api/there?q=%2F#top',
    upper: 'http://public.test/api/UP',
    bare: 'http://public.test/',
    foreign: 'http://elsewhere.example/v1/keep',
  }
  for (const [path, location] of Object.entries(expected)) {
    // Round robin: each path is asked twice, so both upstreams answer it.
    for (let i = 0; i < 2; i++) {
      const r = await get(agent, `${proxy.url}/api/${path}`, { headers: { host: 'public.test' } })
      assert.equal(r.status, 302)
      assert.equal(r.headers.location, location, path)
      assert.equal(r.headers['content-location'], location, path)
    }
  }
})

test('behind a trusted proxy the public origin is its X-Forwarded-Proto and -Host; from anyone else they are ignored', async (t) => {
  let self = ''
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(301, { location: `${self}/moved`, 'content-length': '0' })
      res.end()
    },
  })
  self = origin.url
  t.after(() => origin.close())
  const forwarded = { host: 'inner.test', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' }
  const trusted = await startProxy(t, { trustProxy: '127.0.0.1', routes: [{ upstreams: [origin.url] }] })
  const untrusted = await startProxy(t, { routes: [{ upstreams: [origin.url] }] })
  const agent = client(t)
  const a = await get(agent, `${trusted.url}/x`, { headers: forwarded })
  assert.equal(a.headers.location, 'https://shop.example/moved')
  const b = await get(agent, `${untrusted.url}/x`, { headers: forwarded })
  assert.equal(b.headers.location, 'http://inner.test/moved')
  // A malformed X-Forwarded-Host from a trusted peer is not used.
  const c = await get(agent, `${trusted.url}/x`, {
    headers: { ...forwarded, 'x-forwarded-host': 'bad host/x' },
  })
  assert.equal(c.headers.location, 'https://inner.test/moved')
})
