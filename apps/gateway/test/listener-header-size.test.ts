// Issue 27 item 6: `reverse.maxHeaderSize` answers 431 for a request head larger than it (logged as
// malformed), and a head within it is proxied.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('maxHeaderSize: a larger head gets 431 and never reaches the upstream', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', maxHeaderSize: '2KiB', routes: [{ upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const status = async (bytes: number) =>
    (
      await curl([
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-H',
        `x-big: ${'h'.repeat(bytes)}`,
        `${gw.urls.reverse}/x`,
      ])
    ).stdout
  assert.equal(await status(1000), '200')
  assert.equal(await status(4000), '431')
  assert.equal(origin.hits, 1)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.status === 431)
  assert.equal(line.route, 'malformed')
  assert.equal(await gw.stop(), 0)
})
