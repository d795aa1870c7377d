// Issue 23 item 8 through the gateway: X-Original-URL and X-Rewrite-URL never reach an upstream by default,
// and `reverse.stripRequestHeaders` names the list.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('the reverse listener strips X-Original-URL and X-Rewrite-URL, or the headers it is told to', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const headers = { 'x-original-url': '/admin', 'x-rewrite-url': '/admin', 'x-internal': '1' }
  for (const [strip, gone, kept] of [
    [undefined, ['x-original-url', 'x-rewrite-url'], ['x-internal']],
    [['X-Internal'], ['x-internal'], ['x-original-url', 'x-rewrite-url']],
  ] as const) {
    const file = await writeConfig(t, {
      reverse: {
        listen: '127.0.0.1:0',
        ...(strip === undefined ? {} : { stripRequestHeaders: strip }),
        routes: [{ upstreams: [origin.url] }],
      },
      admin: { listen: '127.0.0.1:0' },
    })
    const gw = await startCli(t, ['--config', file], ['reverse'])
    const seen = (await (await fetch(`${gw.urls.reverse}/public`, { headers })).json()) as {
      headers: Record<string, string>
    }
    for (const h of gone) assert.equal(seen.headers[h], undefined, h)
    for (const h of kept) assert.ok(seen.headers[h] !== undefined, h)
    assert.equal(await gw.stop(), 0)
  }
})
