import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chromiumLaunchOptions, startOrigin } from '@proxykit/core/testing'
import { chromium } from 'playwright-core'
import { request } from 'undici'
import { RECENT_DENIALS } from '../src/ops/live-stats.js'
import { startCli, writeConfig } from './helpers/cli.js'

/** The first `point` event of the admin listener's Server-Sent Events stream, parsed. */
async function firstPoint(admin: string): Promise<{ denials: unknown[] }> {
  const res = await fetch(`${admin}/live/stream`)
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error(`the stream ended without a point: ${text.slice(0, 200)}`)
      text += decoder.decode(value, { stream: true })
      const m = /event: point\ndata: (.*)\n\n/.exec(text)
      if (m !== null) return JSON.parse(m[1]!)
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

// Issue 26 item 17: the dashboard showed 12 recent denials and its stream sent 20 while
// docs/operations.md said 50 (what /live kept). One number, everywhere.
test('the recent denials are the last 50 in /live, in /live/stream and in the dashboard table', async (t) => {
  assert.equal(RECENT_DENIALS, 50, 'the number docs/operations.md states')
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ name: 'web', prefix: '/', upstreams: [origin.url], deny: ['/private'] }],
    },
    admin: { listen: '127.0.0.1:0', token: 'recent-denials-token' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  for (let i = 0; i < RECENT_DENIALS + 10; i++) {
    const res = await request(`${gw.urls.reverse}/private/${i}`)
    assert.equal(res.statusCode, 403)
    await res.body.dump()
  }
  const live = (await (await fetch(`${gw.urls.admin}/live`)).json()) as { denials: Array<{ target: string }> }
  assert.equal(live.denials.length, RECENT_DENIALS)
  assert.equal(live.denials[0]!.target, `/private/${RECENT_DENIALS + 9}`, 'newest first')
  assert.equal((await firstPoint(gw.urls.admin!)).denials.length, RECENT_DENIALS)

  const browser = await chromium.launch(chromiumLaunchOptions())
  t.after(() => browser.close())
  const page = await browser.newPage()
  await page.goto(`${gw.urls.admin}/`)
  await page.waitForFunction(
    `document.querySelectorAll('#denials tbody tr').length === ${RECENT_DENIALS}`,
    null,
    { timeout: 20_000 },
  )
  // A point a second later redraws the table from the stream: still every one of them.
  await page.waitForTimeout(1500)
  assert.equal(await page.locator('#denials tbody tr').count(), RECENT_DENIALS)
  assert.equal(await gw.stop(), 0)
})
