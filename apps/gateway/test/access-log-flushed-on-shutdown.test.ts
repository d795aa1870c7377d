import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { Agent, request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

// Access lines are written asynchronously (log-destination.ts): a burst of requests followed at once by
// SIGTERM still leaves one complete line per request on stdout, before the last line of the shutdown.

test('every access line of a burst is on stdout after SIGTERM, complete and before "gateway stopped"', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ name: 'web', upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const agent = new Agent({ connections: 16 })
  t.after(() => agent.close())
  const total = 400
  let next = 0
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < total) {
        const i = next++
        const res = await request(`${gw.urls.reverse}/burst/${i}`, { dispatcher: agent })
        await res.body.dump()
        assert.equal(res.statusCode, 200)
      }
    }),
  )
  // No wait for the log: the signal follows the last response.
  assert.equal(await gw.stop('SIGTERM'), 0)
  const lines = gw
    .stdout()
    .split('\n')
    .filter((l) => l.length > 0)
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  const access = parsed.filter((l) => l.msg === 'access')
  assert.equal(access.length, total, 'one access line per request')
  const targets = new Set(access.map((l) => l.target))
  for (let i = 0; i < total; i++) assert.ok(targets.has(`/burst/${i}`), `the line of /burst/${i}`)
  for (const l of access) {
    assert.equal(l.status, 200)
    assert.equal(l.listener, 'reverse')
    assert.match(String(l.reqId), /\S/)
  }
  assert.equal(parsed.at(-1)?.msg, 'gateway stopped')
})
