import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveOptions } from '../src/options.js'
import { Upstream } from '../src/upstream.js'

const route = resolveOptions({ routes: [{ upstreams: ['http://127.0.0.1:1'] }] }).routes[0]!
const passive = { failures: 3, ejectMs: 5_000, maxEjectMs: 60_000, statuses: [] }

test('the requests in flight at a crash fail at one instant and count as one failure', (t) => {
  const u = new Upstream('http://127.0.0.1:10001', 1, route)
  t.after(() => u.destroy())
  const inFlight = Array.from({ length: 30 }, () => u.begin())
  const now = 1_000
  for (const seq of inFlight) assert.equal(u.recordFailure(passive, now, seq), false)
  assert.equal(u.consecutiveFailures, 1, 'thirty requests cut by one crash are one failure')
  assert.equal(u.available(now), true, 'one failure does not eject')
  // Requests sent after that failure fail on their own: each counts, and the third ejects once, for ejectMs.
  assert.equal(u.recordFailure(passive, now + 10, u.begin()), false)
  assert.equal(u.recordFailure(passive, now + 20, u.begin()), true)
  assert.equal(u.ejectedUntil, now + 20 + passive.ejectMs)
  assert.equal(u.failures, 32, 'every failure is still in the statistics')
})

test('failures while an upstream is already ejected do not count again, nor lengthen the ejection', (t) => {
  const u = new Upstream('http://127.0.0.1:10002', 1, route)
  t.after(() => u.destroy())
  const now = 1_000
  for (let i = 0; i < 3; i++) u.recordFailure(passive, now, u.begin())
  assert.equal(u.ejectedUntil, now + 5_000)
  // Requests that were still running (a slow body, a retry in progress) fail later, one by one.
  for (let i = 0; i < 12; i++) assert.equal(u.recordFailure(passive, now + 100 + i, u.begin()), false)
  assert.equal(u.ejectedUntil, now + 5_000, 'the ejection is not extended')
  assert.equal(u.ejections, 1, 'the next ejection is still the first doubling, not the fourth')
  assert.equal(u.consecutiveFailures, 0)
})

test('a passing active check ends an ejection', (t) => {
  const u = new Upstream('http://127.0.0.1:10003', 1, route)
  t.after(() => u.destroy())
  const now = Date.now()
  for (let i = 0; i < 3; i++) u.recordFailure(passive, now, u.begin())
  assert.equal(u.available(now), false)
  assert.equal(u.endEjection(), true)
  assert.equal(u.available(now), true)
  assert.equal(u.endEjection(), false, 'nothing left to end')
})
