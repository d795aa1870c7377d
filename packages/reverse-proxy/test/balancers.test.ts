import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ConsistentHash,
  LeastInFlight,
  PowerOfTwoChoices,
  RoundRobin,
  WeightedRoundRobin,
} from '../src/balancers/index.js'
import { resolveOptions } from '../src/options.js'
import { Upstream } from '../src/upstream.js'

// Balancers are pure choice logic over Upstream objects (real ones, with pools that never connect here).
const route = resolveOptions({ routes: [{ upstreams: ['http://127.0.0.1:1'] }] }).routes[0]!
function upstreams(weights: number[]): Upstream[] {
  return weights.map((w, i) => new Upstream(`http://127.0.0.1:${10001 + i}`, w, route))
}
function count(list: Upstream[], picks: Array<Upstream | null>): number[] {
  return list.map((u) => picks.filter((p) => p === u).length)
}

test('round robin spreads evenly', () => {
  const list = upstreams([1, 1, 1])
  const b = new RoundRobin()
  const picks = Array.from({ length: 300 }, () => b.pick({ candidates: list, key: '' }))
  assert.deepEqual(count(list, picks), [100, 100, 100])
})

test('smooth weighted round robin honours weights and interleaves (nginx order for 5,1,1)', () => {
  const list = upstreams([5, 1, 1])
  const b = new WeightedRoundRobin()
  const picks = Array.from({ length: 7 }, () => b.pick({ candidates: list, key: '' }))
  assert.deepEqual(
    picks.map((p) => list.indexOf(p!)),
    [0, 0, 1, 0, 2, 0, 0],
  )
  const many = Array.from({ length: 700 }, () => b.pick({ candidates: list, key: '' }))
  assert.deepEqual(count(list, many), [500, 100, 100])
})

test('least in-flight picks the least loaded, relative to weight, spreading ties', () => {
  const list = upstreams([1, 1, 2])
  list[0]!.inFlight = 3
  list[1]!.inFlight = 1
  list[2]!.inFlight = 4
  const b = new LeastInFlight()
  assert.equal(b.pick({ candidates: list, key: '' }), list[1])
  for (const u of list) u.inFlight = 0
  const picks = Array.from({ length: 30 }, () => b.pick({ candidates: list, key: '' }))
  assert.deepEqual(count(list, picks), [10, 10, 10])
})

test('power of two choices never picks the more loaded of its two, and spreads load', () => {
  const list = upstreams([1, 1, 1, 1])
  list[0]!.inFlight = 100
  const b = new PowerOfTwoChoices('in-flight')
  const picks = Array.from({ length: 2000 }, () => b.pick({ candidates: list, key: '' }))
  const c = count(list, picks)
  assert.equal(c[0], 0, 'the overloaded upstream loses every comparison')
  for (const n of c.slice(1)) assert.ok(n > 450 && n < 900, `spread ${c}`)
  for (const u of list) u.inFlight = 0
  const now = performance.now()
  list[3]!.recordLatency(500, now)
  for (const u of list.slice(0, 3)) u.recordLatency(5, now)
  const lat = new PowerOfTwoChoices('latency')
  const picks2 = Array.from({ length: 2000 }, () => lat.pick({ candidates: list, key: '' }))
  assert.equal(count(list, picks2)[3], 0, 'the slow upstream loses every comparison')
})

test('consistent hashing: keys stay put, and adding or removing one of N moves about 1/N of them', () => {
  const b = new ConsistentHash()
  const list = upstreams([1, 1, 1, 1, 1, 1, 1, 1, 1])
  const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`)
  const before = keys.map((key) => b.pick({ candidates: list, key }))
  const again = keys.map((key) => b.pick({ candidates: list, key }))
  assert.deepEqual(again, before, 'the same key always lands on the same upstream')
  const c = count(list, before)
  for (const n of c) assert.ok(n > 10_000 / 9 / 1.3 && n < (10_000 / 9) * 1.3, `balanced: ${c}`)

  const added = [...list, ...upstreams([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]).slice(9)]
  const afterAdd = keys.map((key) => b.pick({ candidates: added, key }))
  const movedAdd = afterAdd.filter((u, i) => u !== before[i]).length
  assert.ok(
    movedAdd > 10_000 / 10 / 1.5 && movedAdd < (10_000 / 10) * 1.5,
    `adding the 10th moved ${movedAdd}`,
  )
  assert.ok(
    afterAdd.every((u, i) => u === before[i] || u === added[9]),
    'keys only move to the new upstream',
  )

  const removed = list.filter((_, i) => i !== 4)
  const afterRemove = keys.map((key) => b.pick({ candidates: removed, key }))
  const moved = afterRemove.filter((u, i) => u !== before[i])
  assert.equal(moved.length, c[4], 'only the keys of the removed upstream move')

  const weighted = upstreams([1, 3])
  const wc = count(
    weighted,
    keys.map((key) => b.pick({ candidates: weighted, key })),
  )
  assert.ok(wc[1]! / wc[0]! > 2.5 && wc[1]! / wc[0]! < 3.5, `weights 1:3 gave ${wc}`)
})
