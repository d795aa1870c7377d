import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GatewayMetrics } from '../src/metrics.js'
import { LiveStats, quantile } from '../src/ops/live-stats.js'

test('quantile interpolates within the bucket, as histogram_quantile does', () => {
  // 10 observations ≤ 1 ms, 10 more ≤ 10 ms: the median is at the top of the first bucket.
  assert.equal(
    quantile(0.5, [
      [0.001, 10],
      [0.01, 20],
      [Number.POSITIVE_INFINITY, 20],
    ]),
    1,
  )
  const p75 = quantile(0.75, [
    [0.001, 10],
    [0.01, 20],
    [Number.POSITIVE_INFINITY, 20],
  ])
  assert.ok(p75 !== null && Math.abs(p75 - 5.5) < 1e-9, `p75 ${p75}: halfway into the 1-10 ms bucket`)
  assert.equal(
    quantile(0.5, [
      [0.001, 0],
      [Number.POSITIVE_INFINITY, 0],
    ]),
    null,
  )
})

test('LiveStats turns the registry into per-second rates, latency quantiles and status classes', async () => {
  const metrics = new GatewayMetrics()
  const live = new LiveStats({ read: () => metrics.registry.getMetricsAsJSON(), intervalMs: 60_000 })
  try {
    await live.sample()
    for (let i = 0; i < 30; i++) {
      metrics.requests.inc({ listener: 'reverse', route: 'web', status: i < 20 ? 200 : 503 })
      metrics.duration.observe({ listener: 'reverse', route: 'web' }, 0.004)
    }
    metrics.requests.inc({ listener: 'forward', route: 'http', status: 403 }, 5)
    await new Promise((r) => setTimeout(r, 50))
    let seenBySubscriber: Record<string, number> | null = null
    const unsubscribe = live.subscribe(() => {
      seenBySubscriber = live.snapshot().totals.requests
    })
    await live.sample()
    unsubscribe()
    assert.deepEqual(seenBySubscriber, { reverse: 30, forward: 5 }, 'the SSE feed sends the new totals')
    const now = live.snapshot().now!
    assert.ok(now.rps.reverse! > 0 && now.rps.forward! > 0)
    assert.ok(Math.abs(now.rps.reverse! / now.rps.forward! - 6) < 0.01, 'rates keep their proportions')
    assert.ok(now.status['2xx']! > 0 && now.status['5xx']! > 0 && now.status['4xx']! > 0)
    assert.ok(now.denials > 0, '403s count as denials')
    assert.ok(now.p50! > 2.5 && now.p50! <= 5, `p50 ${now.p50} within the 2.5-5 ms bucket`)
    assert.deepEqual(live.snapshot().totals.requests, { reverse: 30, forward: 5 })
    // A later interval without traffic shows zero, not the totals again.
    await live.sample()
    assert.equal(live.snapshot().now!.rps.reverse, 0)
    assert.equal(live.snapshot().history.length, 2)
  } finally {
    live.close()
  }
})
