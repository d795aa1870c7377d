// Issue 24 item 5: instances sharing a Redis announce themselves; GET /instances on either lists both
// (id, version, addresses, uptime, config hash), says when their config hashes differ (and each logs a
// warning), and a stopped instance leaves the list.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { redisForTests, startOrigin } from '@proxykit/core/testing'
import type { InstancesView } from '../src/instances.js'
import { startCli, writeConfig } from './helpers/cli.js'

test('two instances on one Redis list each other and warn when their configs differ', async (t) => {
  const redis = await redisForTests()
  if (redis === null) return t.skip('no redis-server here')
  t.after(() => redis.stop())
  const origin = await startOrigin({ handler: (_req, res) => res.end('ok') })
  t.after(() => origin.close())
  const prefix = `gw-${randomBytes(6).toString('hex')}:`
  const config = (route: string) => ({
    reverse: { listen: '127.0.0.1:0', routes: [{ name: route, prefix: '/', upstreams: [origin.url] }] },
    redis: { url: redis.url, prefix },
    admin: { listen: '127.0.0.1:0' },
    log: { access: false },
  })
  const one = await startCli(
    t,
    ['--config', await writeConfig(t, config('a'), 'one.json')],
    ['reverse', 'admin'],
  )
  const two = await startCli(
    t,
    ['--config', await writeConfig(t, config('b'), 'two.json')],
    ['reverse', 'admin'],
  )
  const list = async (admin: string) => {
    const res = await fetch(`${admin}/instances`)
    assert.equal(res.status, 200)
    return (await res.json()) as InstancesView
  }
  const until = async (admin: string, check: (v: InstancesView) => boolean) => {
    const deadline = Date.now() + 15_000
    let view = await list(admin)
    while (!check(view) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      view = await list(admin)
    }
    return view
  }
  const seen = await until(one.urls.admin!, (v) => v.instances.length === 2)
  assert.equal(seen.instances.length, 2)
  const [first, second] = seen.instances
  assert.notEqual(first!.id, second!.id)
  assert.deepEqual(
    seen.instances.map((i) => i.self),
    [true, false],
    'one is the instance asked; it started first',
  )
  assert.equal(first!.addresses.reverse, one.urls.reverse)
  assert.equal(second!.addresses.admin, two.urls.admin)
  for (const i of seen.instances) {
    assert.match(i.version, /^\d+\.\d+\.\d+/)
    assert.ok(i.uptimeMs >= 0)
    assert.match(i.configHash, /^[0-9a-f]{16}$/)
  }
  assert.notEqual(first!.configHash, second!.configHash)
  assert.equal(seen.configMismatch, true)
  const fromTwo = await list(two.urls.admin!)
  assert.equal(fromTwo.configMismatch, true)
  assert.deepEqual(
    fromTwo.instances.map((i) => i.self),
    [false, true],
  )
  await two.waitForLog((l) => l.event === 'config-mismatch', 15_000)

  // A clean stop leaves the list at once (a crashed instance after its expiry).
  assert.equal(await two.stop(), 0)
  const after = await until(one.urls.admin!, (v) => v.instances.length === 1)
  assert.equal(after.instances.length, 1)
  assert.equal(after.configMismatch, false)
  assert.equal(await one.stop(), 0)
})
