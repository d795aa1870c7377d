import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { DEFAULT_PASSIVE_HEALTH, resolveOptions } from '../src/options.js'
import { RetryBudget } from '../src/retry-budget.js'
import { Upstream } from '../src/upstream.js'
import { client, get, startProxy } from './helpers.js'

const route = resolveOptions({ routes: [{ upstreams: ['http://127.0.0.1:1'] }] }).routes[0]!

test('passive ejection: the backoff doubles with each ejection without a success, capped, and resets after one', () => {
  const u = new Upstream('http://127.0.0.1:10001', 1, route)
  const passive = { failures: 2, ejectMs: 100, maxEjectMs: 350, statuses: [] }
  const lengths: number[] = []
  let now = 1_000
  for (let i = 0; i < 4; i++) {
    assert.equal(u.recordFailure(passive, now, u.begin()), false, 'one failure does not eject')
    assert.equal(u.recordFailure(passive, now, u.begin()), true, 'the second in a row does')
    assert.equal(u.available(now), false)
    lengths.push(u.ejectedUntil - now)
    now = u.ejectedUntil
    assert.equal(u.available(now), true, 'tried again once the time is up')
  }
  assert.deepEqual(lengths, [100, 200, 350, 350])
  u.recordSuccess()
  u.recordFailure(passive, now, u.begin())
  u.recordFailure(passive, now, u.begin())
  assert.equal(u.ejectedUntil - now, 100, 'a success resets the backoff')
  assert.equal(u.recordFailure(false, now, u.begin()), false, 'passiveHealth: false never ejects')
  void u.destroy()
  assert.equal(DEFAULT_PASSIVE_HEALTH.failures, 3)
})

test('the retry budget allows budgetRatio of the requests plus minPerSecond, and no more', () => {
  const budget = new RetryBudget({ attempts: 1, budgetRatio: 0.2, minPerSecond: 2 })
  let allowed = 0
  for (let i = 0; i < 100; i++) {
    budget.deposit()
    if (budget.withdraw()) allowed++
  }
  // 2 to start with, then one retry per five requests.
  assert.ok(allowed >= 20 && allowed <= 23, `allowed ${allowed} of 100`)
  const none = new RetryBudget({ attempts: 1, budgetRatio: 0, minPerSecond: 0 })
  none.deposit()
  assert.equal(none.withdraw(), false)
})

test('consecutive 5xx answers eject an upstream when the route counts them, and are passed to the client meanwhile', async (t) => {
  const failing = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(503, { 'content-length': '4' })
      res.end('down')
    },
  })
  const healthy = await startOrigin({ handler: (_req, res) => void res.end('up') })
  t.after(() => Promise.all([failing.close(), healthy.close()]))
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        balancer: 'round-robin',
        upstreams: [failing.url, healthy.url],
        passiveHealth: { failures: 2, ejectMs: 60_000, statuses: [503] },
      },
    ],
  })
  const agent = client(t)
  const statuses: number[] = []
  for (let i = 0; i < 10; i++) statuses.push((await get(agent, `${proxy.url}/`)).status)
  assert.deepEqual(
    statuses.slice(0, 4),
    [503, 200, 503, 200],
    'a 5xx is the upstream’s answer: passed on, not retried',
  )
  assert.deepEqual(statuses.slice(4), [200, 200, 200, 200, 200, 200], 'then the failing upstream is out')
  assert.equal(proxy.app.reverseProxy.upstreams('app')[0]!.state, 'ejected')
})
