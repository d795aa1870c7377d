import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromiumLaunchOptions, startOrigin } from '@proxykit/core/testing'
import { chromium } from 'playwright-core'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

const ARTIFACTS = fileURLToPath(new URL('../../../../.artifacts/', import.meta.url))

test('the dashboard loads in Chromium, its numbers move with traffic, a screenshot is saved', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      const cacheable = req.url?.startsWith('/static') === true
      res.writeHead(200, { 'cache-control': cacheable ? 'public, max-age=60' : 'no-store' })
      res.end(`hello ${req.url}`)
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ name: 'web', prefix: '/', upstreams: [origin.url], cache: true, deny: ['/private'] }],
    },
    admin: { listen: '127.0.0.1:0', token: 'dashboard-test-token' },
    log: { access: true },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])

  const browser = await chromium.launch(chromiumLaunchOptions())
  t.after(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  const external: string[] = []
  page.on('request', (r) => {
    if (!r.url().startsWith(gw.urls.admin!)) external.push(r.url())
  })
  await page.goto(`${gw.urls.admin}/`)
  assert.equal(await page.title(), 'proxykit gateway')
  await page.waitForFunction("document.getElementById('state').textContent.startsWith('live')", null, {
    timeout: 20_000,
  })
  assert.equal(await page.textContent('#total'), '0', 'no data traffic yet')

  // Traffic for every panel: passes, cache hits, denials. It keeps flowing (at least 4 s, so that the
  // charts get several points) until the page has shown every "now" figure: each is the last interval's,
  // so on a slow machine a figure read after the traffic stopped can already be back to "–".
  const started = Date.now()
  let sent = 0
  let seen = false
  const traffic = (async () => {
    while ((!seen || Date.now() - started < 4_000) && Date.now() - started < 60_000 && sent < 20_000) {
      await new Promise((r) => setTimeout(r, 20))
      for (const p of ['/static/a.css', '/page', '/private/x', '/static/a.css']) {
        const res = await request(`${gw.urls.reverse}${p}`)
        await res.body.dump()
        sent++
      }
    }
  })()
  try {
    for (const shown of [
      "Number(document.getElementById('total').textContent.replace(/\\D/g, '')) > 0",
      "/%/.test(document.getElementById('hit-now').textContent)",
      "/req\\/s/.test(document.getElementById('rps-now').textContent)",
      "/p50 \\d/.test(document.getElementById('lat-now').textContent)",
    ])
      await page.waitForFunction(shown, null, { timeout: 30_000 })
  } finally {
    seen = true
    await traffic
  }
  const total = Number((await page.textContent('#total'))!.replace(/\D/g, ''))
  assert.ok(total >= Math.min(sent, 4), `total ${total} after ${sent} requests`)
  // The requests-per-second chart has a line for the reverse listener, with points above zero.
  const rpsPath = await page.getAttribute('#rps path[data-series="reverse"]', 'd')
  assert.ok(rpsPath !== null && rpsPath.length > 10, 'a plotted line for the reverse listener')
  // The denial shows in the recent list with its rule.
  await page.waitForFunction(
    "document.querySelector('#denials tbody').textContent.includes('/private/x')",
    null,
    {
      timeout: 20_000,
    },
  )
  assert.match((await page.textContent('#denials tbody')) ?? '', /web:deny/)
  assert.match(
    (await page.textContent('#upstreams tbody')) ?? '',
    new RegExp(origin.url.replace(/[.]/g, '\\.')),
  )
  assert.match((await page.textContent('#up-count')) ?? '', /1 \/ 1 healthy/)
  assert.deepEqual(external, [], 'the page loads nothing from elsewhere')

  await mkdir(ARTIFACTS, { recursive: true })
  const shot = `${ARTIFACTS}gateway-dashboard.png`
  await page.screenshot({ path: shot, fullPage: true })
  console.log(`dashboard screenshot: ${shot}`)

  // Reading needs no token; the mutating reload does.
  const reload = await request(`${gw.urls.admin}/reload`, { method: 'POST' })
  await reload.body.dump()
  assert.equal(reload.statusCode, 401)
  assert.equal(await gw.stop(), 0)
})
