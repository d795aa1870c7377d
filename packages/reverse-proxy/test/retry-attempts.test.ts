import assert from 'node:assert/strict'
import net from 'node:net'
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
      passiveHealth: false as const,
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

test('retries go to upstreams not tried yet; with none left only a reset earns one resend, a refusal none', async (t) => {
  const two = [await resettingUpstream(t), await resettingUpstream(t)]
  const one = await resettingUpstream(t)
  // A port with nothing listening: connections are refused.
  const closed = net.createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const refusing = `http://127.0.0.1:${(closed.address() as net.AddressInfo).port}`
  await new Promise((resolve) => closed.close(resolve))
  const attempts: number[] = []
  const routes = [
    { name: 'two', prefix: '/two', upstreams: two.map((b) => b.url) },
    { name: 'one', prefix: '/one', upstreams: [one.url] },
    { name: 'refusing', prefix: '/refusing', upstreams: [refusing] },
  ].map((r) => ({ ...r, passiveHealth: false as const, retries: { attempts: 5, ...budget } }))
  const proxy = await startProxy(
    t,
    { routes },
    {
      before: (app) =>
        app.addHook('onResponse', async (request) => {
          attempts.push(request.proxy.upstream?.attempts ?? 0)
        }),
    },
  )
  const agent = client(t)
  for (let i = 0; i < 3; i++) {
    assert.equal((await get(agent, `${proxy.url}/two/x`)).status, 502)
    // Each upstream once, then one resend to the one that reset last: three tries, not 1 + attempts.
    assert.equal(
      two.reduce((n, b) => n + b.requests(), 0),
      3 * (i + 1),
    )
    assert.ok(two.every((b) => b.requests() >= i + 1))
  }
  for (let i = 0; i < 3; i++) assert.equal((await get(agent, `${proxy.url}/one/x`)).status, 502)
  assert.equal(one.requests(), 3 * 2, 'a lone upstream that resets gets one resend per request, no more')
  attempts.length = 0
  const refused = await get(agent, `${proxy.url}/refusing/x`)
  assert.equal(refused.status, 502)
  assert.match(refused.text, /refused/)
  assert.deepEqual(attempts, [1], 'a refused connection is not resent to the same upstream')
})
