import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chromiumLaunchOptions, chromiumSkip, startOrigin } from '@proxykit/core/testing'
import { chromium } from 'playwright-core'
import { startCli, writeConfig } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

const PAGE = `<!doctype html><html><head><title>loading</title></head>
<body><script src="/app.js"></script></body></html>`

test('Chromium loads a page and its script through the HTTPS listener over HTTP/2, trusting the test certificate', {
  skip: chromiumSkip(),
  timeout: 120_000,
}, async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
      else if (req.url === '/app.js')
        res.writeHead(200, { 'content-type': 'text/javascript' }).end("document.title = 'rendered by script'")
      else res.writeHead(404).end()
    },
  })
  t.after(() => origin.close())
  const ca = await createTestCa(t)
  const cert = await ca.issue(['browser.test'], { intermediate: true })
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      hsts: 600,
      routes: [{ prefix: '/', upstreams: [origin.url] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const port = Number(new URL(gw.urls.reverse!).port)
  const browser = await chromium.launch(
    chromiumLaunchOptions([
      // browser.test is the gateway on loopback; nothing else resolves.
      '--host-resolver-rules=MAP browser.test 127.0.0.1, EXCLUDE localhost',
      // Trust the test certificate by its key, as an enterprise policy would: no verification is switched off.
      `--ignore-certificate-errors-spki-list=${cert.spki}`,
    ]),
  )
  t.after(() => browser.close())
  const page = await browser.newPage()
  const response = await page.goto(`https://browser.test:${port}/`, { waitUntil: 'load', timeout: 60_000 })
  assert.equal(response?.status(), 200)
  assert.equal(await page.title(), 'rendered by script')
  assert.equal(await response?.headerValue('strict-transport-security'), 'max-age=600')
  const security = await response?.securityDetails()
  assert.equal(security?.subjectName, 'browser.test')

  const page1 = await gw.waitForLog((l) => l.msg === 'access' && l.target === '/')
  const script = await gw.waitForLog((l) => l.msg === 'access' && l.target === '/app.js')
  assert.equal(page1.protocol, 'HTTP/2')
  assert.equal(script.protocol, 'HTTP/2')
  assert.equal(await gw.stop(), 0)
})
