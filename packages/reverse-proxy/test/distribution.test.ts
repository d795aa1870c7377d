import assert from 'node:assert/strict'
import { test } from 'node:test'
import { client, namedOrigins, startProxy, tally } from './helpers.js'

test('each balancer spreads requests over the upstreams within tolerance, and weights are honoured', async (t) => {
  const origins = await namedOrigins(t, 3)
  const proxy = await startProxy(t, {
    routes: [
      { name: 'rr', prefix: '/rr', balancer: 'round-robin', upstreams: origins.map((o) => o.url) },
      {
        name: 'wrr',
        prefix: '/wrr',
        balancer: 'weighted-round-robin',
        upstreams: [
          { url: origins[0]!.url, weight: 3 },
          { url: origins[1]!.url, weight: 1 },
          { url: origins[2]!.url, weight: 1 },
        ],
      },
      { name: 'lif', prefix: '/lif', balancer: 'least-in-flight', upstreams: origins.map((o) => o.url) },
      { name: 'p2c', prefix: '/p2c', balancer: 'p2c', upstreams: origins.map((o) => o.url) },
      { name: 'p2cl', prefix: '/p2cl', balancer: 'p2c-latency', upstreams: origins.map((o) => o.url) },
      {
        name: 'hash',
        prefix: '/hash',
        balancer: 'consistent-hash',
        hashOn: 'path',
        upstreams: origins.map((o) => o.url),
      },
    ],
  })
  const agent = client(t)
  const rr = await tally(agent, `${proxy.url}/rr/x`, 300)
  assert.deepEqual([rr.get('origin-0'), rr.get('origin-1'), rr.get('origin-2')], [100, 100, 100])

  const wrr = await tally(agent, `${proxy.url}/wrr/x`, 500)
  assert.deepEqual([wrr.get('origin-0'), wrr.get('origin-1'), wrr.get('origin-2')], [300, 100, 100])

  // Sequential requests leave every upstream idle: least-in-flight then rotates through the ties.
  const lif = await tally(agent, `${proxy.url}/lif/x`, 300)
  for (const n of [lif.get('origin-0'), lif.get('origin-1'), lif.get('origin-2')])
    assert.ok(n! >= 80 && n! <= 120, `lif ${[...lif]}`)

  const p2c = await tally(agent, `${proxy.url}/p2c/x`, 600)
  for (const n of [p2c.get('origin-0'), p2c.get('origin-1'), p2c.get('origin-2')])
    assert.ok(n !== undefined && n >= 60, `p2c should use all upstreams: ${[...p2c]}`)
  // On latency, equal upstreams share unevenly (the fastest-looking wins until its average rises or the
  // others' decays): every request must still succeed, and more than one upstream must be used.
  const p2cl = await tally(agent, `${proxy.url}/p2cl/x`, 300)
  assert.equal([...p2cl.keys()].filter((k) => k.startsWith('status')).length, 0)
  assert.ok(p2cl.size >= 2, `p2c-latency ${[...p2cl]}`)

  const hashCounts = new Map<string, number>()
  for (let i = 0; i < 300; i++) {
    const c = await tally(agent, `${proxy.url}/hash/item-${i}`, 1)
    for (const [k, v] of c) hashCounts.set(k, (hashCounts.get(k) ?? 0) + v)
  }
  for (const n of [hashCounts.get('origin-0'), hashCounts.get('origin-1'), hashCounts.get('origin-2')])
    assert.ok(n! >= 60 && n! <= 140, `hash ${[...hashCounts]}`)
})
