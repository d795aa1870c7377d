import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { client, get, namedOrigins, startProxy } from './helpers.js'
import { resettingUpstream } from './retry-helpers.js'

test('a retry budget that allows nothing: a GET failing on one upstream is not retried on the other', async (t) => {
  const bad = await resettingUpstream(t)
  const [good] = await namedOrigins(t, 1)
  const route = (name: string, retries: object) => ({
    name,
    prefix: `/${name}`,
    balancer: 'round-robin' as const,
    passiveHealth: false as const,
    retries,
    upstreams: [bad.url, good!.url],
  })
  const proxy = await startProxy(t, {
    routes: [
      route('none', { attempts: 1, budgetRatio: 0, minPerSecond: 0 }),
      route('some', { attempts: 1, budgetRatio: 0.2, minPerSecond: 10 }),
    ],
  })
  const agent = client(t)
  const statuses: number[] = []
  for (let i = 0; i < 10; i++) statuses.push((await get(agent, `${proxy.url}/none/x`)).status)
  assert.equal(bad.requests(), 5, 'round robin sent half to the failing upstream')
  assert.equal(good!.hits, 5, 'the good upstream got only its own half: no retry reached it')
  assert.deepEqual(
    statuses.filter((s) => s !== 200),
    [502, 502, 502, 502, 502],
  )

  // The same failure with a budget is retried: the test above is not passing for another reason.
  const before = good!.hits
  for (let i = 0; i < 4; i++) assert.equal((await get(agent, `${proxy.url}/some/x`)).status, 200)
  assert.equal(good!.hits - before, 4)
})

test('retries stop at budgetRatio of the requests sent when there is no per-second allowance', async (t) => {
  const bad = [await resettingUpstream(t), await resettingUpstream(t)]
  const proxy = await startProxy(t, {
    routes: [
      {
        passiveHealth: false,
        retries: { attempts: 1, budgetRatio: 0.25, minPerSecond: 0 },
        upstreams: bad.map((b) => b.url),
      },
    ],
  })
  const agent = client(t)
  for (let i = 0; i < 20; i++) assert.equal((await get(agent, `${proxy.url}/x`)).status, 502)
  // Every request earns a quarter of a retry: 20 requests, 5 retries (40 with the budget ignored).
  assert.equal(bad[0]!.requests() + bad[1]!.requests(), 25)
})

test('a failure with nowhere left to retry does not spend the budget', async (t) => {
  // A port nothing listens on: connections are refused, and a refused upstream is never resent to.
  const closed = net.createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const refusing = `http://127.0.0.1:${(closed.address() as net.AddressInfo).port}`
  await new Promise((resolve) => closed.close(resolve))
  const [good] = await namedOrigins(t, 1)
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        balancer: 'round-robin',
        passiveHealth: false,
        // No per-second allowance: each request earns a quarter of a retry, so the balance is exact.
        retries: { attempts: 1, budgetRatio: 0.25, minPerSecond: 0 },
        upstreams: [refusing],
      },
    ],
  })
  const agent = client(t)
  // Alone, the refusing upstream fails every request, and there is no other to retry on.
  for (let i = 0; i < 8; i++) assert.equal((await get(agent, `${proxy.url}/x`)).status, 502)
  // Eight requests earned two retries. Spent on nothing, they would be gone (the balance back at 0, and
  // the next two requests earn only half a retry between them).
  proxy.app.reverseProxy.addUpstream('app', good!.url)
  for (let i = 0; i < 2; i++) assert.equal((await get(agent, `${proxy.url}/y`)).status, 200)
  assert.equal(good!.hits, 2, 'the request that met the refusing upstream was retried on the good one')
})
