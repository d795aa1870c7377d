import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import { Agent } from 'undici'
import { client, get, namedOrigins, startProxy } from './helpers.js'

/** A client whose connections come from `ip` (any address of 127.0.0.0/8 is this machine). */
function clientFrom(t: TestContext, ip: string): Agent {
  const agent = new Agent({ keepAliveTimeout: 1000, localAddress: ip })
  t.after(() => agent.close())
  return agent
}

const IPS = Array.from({ length: 12 }, (_, i) => `127.0.0.${i + 1}`)

async function stickyProxy(t: TestContext, hashOn: 'ip' | `header:${string}` | `cookie:${string}`) {
  const origins = await namedOrigins(t, 3)
  return startProxy(t, {
    routes: [{ balancer: 'consistent-hash', hashOn, upstreams: origins.map((o) => o.url) }],
  })
}

test('hashOn header: the same header value always lands on the same upstream, different values spread', async (t) => {
  const proxy = await stickyProxy(t, 'header:x-user')
  const agent = client(t)
  const values = Array.from({ length: 30 }, (_, i) => `user-${i}`)
  const where = new Map<string, string>()
  for (let round = 0; round < 3; round++) {
    for (const v of values) {
      const r = await get(agent, `${proxy.url}/x`, { headers: { 'x-user': v } })
      assert.equal(r.status, 200)
      if (round === 0) where.set(v, r.text)
      else assert.equal(r.text, where.get(v), `${v} stays on its upstream`)
    }
  }
  // Every request came from the same client IP: only the header can spread them.
  assert.equal(new Set(where.values()).size, 3, 'thirty values use all three upstreams')
  // The same value from other client addresses still lands on the same upstream.
  for (const ip of IPS.slice(1, 4)) {
    const r = await get(clientFrom(t, ip), `${proxy.url}/x`, { headers: { 'x-user': 'user-7' } })
    assert.equal(r.text, where.get('user-7'))
  }
})

test('hashOn ip: one client address stays on its upstream across requests and connections; addresses spread', async (t) => {
  const proxy = await stickyProxy(t, 'ip')
  const where = new Map<string, string>()
  for (const ip of IPS) {
    const seen = new Set<string>()
    // Two clients (two connection pools) from the same address, several requests each.
    for (const agent of [clientFrom(t, ip), clientFrom(t, ip)])
      for (let i = 0; i < 3; i++) seen.add((await get(agent, `${proxy.url}/p${i}`)).text)
    assert.equal(seen.size, 1, `${ip} stays put`)
    where.set(ip, [...seen][0]!)
  }
  assert.ok(new Set(where.values()).size >= 2, `12 addresses spread: ${[...where.values()]}`)
})

test('without the header or cookie, the sticky key falls back to the client IP', async (t) => {
  for (const hashOn of ['header:x-user', 'cookie:sid'] as const) {
    const proxy = await stickyProxy(t, hashOn)
    const byValue = async (value: string) =>
      (
        await get(
          client(t),
          `${proxy.url}/x`,
          hashOn === 'cookie:sid'
            ? { headers: { cookie: `sid=${value}` } }
            : { headers: { 'x-user': value } },
        )
      ).text
    const landed = new Set<string>()
    for (const ip of IPS) {
      const agent = clientFrom(t, ip)
      const bare = (await get(agent, `${proxy.url}/x`, { headers: { cookie: 'other=1' } })).text
      // Keyed by the address: the same upstream as a request carrying the address as its key.
      assert.equal(bare, await byValue(ip), `${hashOn}: ${ip} without a key`)
      assert.equal((await get(agent, `${proxy.url}/y`)).text, bare, `${hashOn}: ${ip} stays put`)
      landed.add(bare)
    }
    assert.ok(landed.size >= 2, `${hashOn}: keyless clients spread by address`)
  }
})
