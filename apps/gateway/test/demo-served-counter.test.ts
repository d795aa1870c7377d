import assert from 'node:assert/strict'
import { test } from 'node:test'
import { request } from 'undici'
import { startDemoUpstreams } from '../src/demo.js'

// Issue 26 item 13: the demo upstreams' `served` counter counted the gateway's health-check probes, so the
// first proxied request read "served": 33. It counts proxied requests only.
test('a demo upstream counts the requests it served, not the health-check probes', async (t) => {
  const demo = await startDemoUpstreams()
  t.after(() => demo.close())
  const [upstream] = demo.upstreams as [string]
  for (let i = 0; i < 5; i++) {
    const probe = await request(`${upstream}/healthz`)
    assert.equal(probe.statusCode, 200)
    await probe.body.dump()
  }
  for (const expected of [1, 2]) {
    const res = await request(`${upstream}/hello`)
    const body = (await res.body.json()) as { served: number; upstream: string }
    assert.equal(body.served, expected)
  }
})
