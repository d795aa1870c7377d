import assert from 'node:assert/strict'
import { test } from 'node:test'
import { client, get, startProxy } from './helpers.js'
import { resettingUpstream } from './retry-helpers.js'

// A budget that never runs out here, so only `attempts` and the set of upstreams bound the tries.
const budget = { budgetRatio: 1, minPerSecond: 1000 }

test('attempts bounds the tries: 1 + attempts per GET, each on a different upstream', async (t) => {
  const bad = [await resettingUpstream(t), await resettingUpstream(t), await resettingUpstream(t)]
  const proxy = await startProxy(t, {
    routes: [1, 2].map((attempts) => ({
      name: `a${attempts}`,
      prefix: `/a${attempts}`,
      passive: false as const,
      retries: { attempts, ...budget },
      upstreams: bad.map((b) => b.url),
    })),
  })
  const agent = client(t)
  const total = () => bad.reduce((n, b) => n + b.requests(), 0)
  for (let i = 0; i < 3; i++) assert.equal((await get(agent, `${proxy.url}/a1/x`)).status, 502)
  assert.equal(total(), 3 * 2, 'attempts: 1 → two tries per request')
  for (let i = 0; i < 3; i++) assert.equal((await get(agent, `${proxy.url}/a2/x`)).status, 502)
  assert.equal(total(), 3 * 2 + 3 * 3, 'attempts: 2 → three tries per request')
  // Three tries over three upstreams: each upstream saw each of those requests exactly once.
  assert.deepEqual(
    bad.map((b) => b.requests() >= 3),
    [true, true, true],
  )
})

test('no upstream is tried twice for one request (nginx proxy_next_upstream): attempts beyond the set are unused', async (t) => {
  const two = [await resettingUpstream(t), await resettingUpstream(t)]
  const one = await resettingUpstream(t)
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'two',
        prefix: '/two',
        passive: false,
        retries: { attempts: 5, ...budget },
        upstreams: two.map((b) => b.url),
      },
      {
        name: 'one',
        prefix: '/one',
        passive: false,
        retries: { attempts: 5, ...budget },
        upstreams: [one.url],
      },
    ],
  })
  const agent = client(t)
  for (let i = 0; i < 3; i++) {
    assert.equal((await get(agent, `${proxy.url}/two/x`)).status, 502)
    assert.deepEqual(
      two.map((b) => b.requests()),
      [i + 1, i + 1],
      'each of the two upstreams tried once per request',
    )
  }
  for (let i = 0; i < 3; i++) assert.equal((await get(agent, `${proxy.url}/one/x`)).status, 502)
  assert.equal(one.requests(), 3, 'a lone upstream is not retried')
})
