// Issue 27 item 3: a route's `cors` (@fastify/cors) seen by a real browser. A page served from one
// origin calls the gateway (another origin) with a credentialed PUT and a custom header, so Chromium sends
// a preflight first: the gateway answers it, the PUT reaches the upstream, and the page reads the body and
// an exposed header. The same call from a page of an origin not listed fails in the browser.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { chromiumLaunchOptions, chromiumSkip, startOrigin } from '@proxykit/core/testing'
import { chromium } from 'playwright-core'
import { startCli, writeConfig } from './helpers/cli.js'

async function pageServer(t: { after(fn: () => unknown): void }): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<!doctype html><title>page</title>')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

test('CORS in Chromium: a listed second origin may call the route, another may not', {
  skip: chromiumSkip(),
}, async (t) => {
  const upstream = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-reply': 'from upstream' })
      res.end('stored')
    },
  })
  t.after(() => upstream.close())
  const allowed = await pageServer(t)
  const stranger = await pageServer(t)
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          name: 'api',
          prefix: '/api',
          upstreams: [upstream.url],
          cors: {
            origin: [allowed],
            credentials: true,
            methods: ['GET', 'PUT'],
            exposedHeaders: ['x-reply'],
          },
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const browser = await chromium.launch(chromiumLaunchOptions())
  t.after(() => browser.close())
  const call = async (pageOrigin: string) => {
    const page = await browser.newPage()
    await page.goto(`${pageOrigin}/`)
    return page.evaluate(async (url) => {
      try {
        const res = await fetch(url, {
          method: 'PUT',
          credentials: 'include',
          headers: { 'content-type': 'application/json', 'x-custom': '1' },
          body: '{"a":1}',
        })
        return { ok: true, status: res.status, text: await res.text(), reply: res.headers.get('x-reply') }
      } catch (err) {
        return { ok: false, error: String(err) }
      }
    }, `${gw.urls.reverse}/api/items`)
  }

  const ok = await call(allowed)
  assert.deepEqual(ok, { ok: true, status: 200, text: 'stored', reply: 'from upstream' })
  const methods = upstream.requests.map((r) => r.method)
  assert.deepEqual(methods, ['PUT'], 'the preflight is answered by the gateway, only the PUT goes upstream')
  assert.equal(upstream.requests[0]!.headers.origin, allowed)

  const refused = await call(stranger)
  assert.equal(refused.ok, false, 'the browser refuses the answer to an origin not listed')
  assert.equal(upstream.requests.length, 1, 'and its preflight failed, so no PUT was sent')
  assert.equal(await gw.stop(), 0)
})
