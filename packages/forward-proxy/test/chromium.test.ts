import assert from 'node:assert/strict'
import { test } from 'node:test'
import { installProxyContext } from '@proxykit/core'
import { chromiumLaunchOptions, chromiumSkip, startOrigin } from '@proxykit/core/testing'
import { chromium } from 'playwright-core'
import { startProxy } from './helpers.js'

// A 1x1 PNG.
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
)
const PAGE = `<!doctype html><html><head><title>loading</title></head>
<body><img id="pixel" src="/pixel.png"><script src="/app.js"></script></body></html>`

test('headless Chromium loads a page, its image and its script, all through the proxy', {
  skip: chromiumSkip(),
  timeout: 120_000,
}, async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
      else if (req.url === '/pixel.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PIXEL)
      else if (req.url === '/app.js')
        res.writeHead(200, { 'content-type': 'text/javascript' }).end("document.title = 'rendered by script'")
      else res.writeHead(404).end()
    },
  })
  const proxied: string[] = []
  const proxy = await startProxy({}, (app) => {
    installProxyContext(app)
    app.addHook('onRequest', async (request) => {
      const target = request.proxy.target
      if (request.proxy.form === 'absolute' && target !== null)
        proxied.push(`${target.authority}${target.path}`)
    })
  })
  const browser = await chromium.launch(
    chromiumLaunchOptions([`--proxy-server=${proxy.url}`, '--proxy-bypass-list=<-loopback>']),
  )
  t.after(async () => {
    await browser.close()
    await Promise.all([proxy.app.close(), origin.close()])
  })

  const page = await browser.newPage()
  const response = await page.goto(`${origin.url}/`, { waitUntil: 'load', timeout: 60_000 })
  assert.equal(response?.status(), 200)
  assert.equal(await page.title(), 'rendered by script')
  const width = await page.$eval('#pixel', (img) => (img as unknown as { naturalWidth: number }).naturalWidth)
  assert.equal(width, 1)

  const authority = `127.0.0.1:${origin.port}`
  for (const path of ['/', '/pixel.png', '/app.js'])
    assert.ok(proxied.includes(`${authority}${path}`), `${path} bypassed the proxy`)
  // Every request the origin saw came through the proxy (the favicon too, if Chromium asked for it).
  // Chromium's own background requests (update checks) reach the proxy too and are refused there.
  const toOrigin = proxied.filter((p) => p.startsWith(`${authority}/`))
  const deadline = Date.now() + 10_000
  while (origin.hits < toOrigin.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  assert.equal(origin.hits, toOrigin.length)
  for (const r of origin.requests)
    assert.ok(proxied.includes(`${authority}${r.url}`), `${r.url} bypassed the proxy`)
})
