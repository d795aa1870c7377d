import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { Redis } from 'ioredis'
import { Agent, request } from 'undici'
import { untilCached } from './cache.js'
import { startCli, writeConfig } from './cli.js'

export interface FailoverTarget {
  /** The config's `redis` connection keys. */
  redis: Record<string, unknown>
  /** SIGKILLs the primary (of the shard holding `key`, on a cluster); resolves with its port. */
  killPrimary(key: string): Promise<number>
  /** The node serving writes for `key` now, or null while none is (the failover not done yet). */
  primaryFor(key: string): Promise<{ port: number } | null>
}

interface Outcome {
  ok: boolean
  ms: number
  detail: string
}

const HOST = 'failover.test'
const URLS = 24

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > end) assert.fail(`${what} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Two gateway instances sharing `target`'s Redis (cache store, a rate limit on every request of one route,
 * fail-open) under a bounded load (6 concurrent clients, alternating instances, until the failover is over
 * and the cache is back, at most 3 minutes or 200,000 requests). The primary holding one cached entry is
 * SIGKILLed once the load runs. Asserted: no client request failed, `/readyz` stayed 200 and named redis
 * as degraded meanwhile (the dashboard's data too), and afterwards every cached URL is a hit again through
 * both instances from the promoted replica, which then holds the entries.
 */
export async function failoverUnderLoad(t: TestContext, target: FailoverTarget): Promise<void> {
  const origin = await startOrigin({
    handler: (req, res) => {
      const cacheable = req.url?.startsWith('/c/') === true
      res.writeHead(200, {
        'cache-control': cacheable ? 'public, max-age=600' : 'no-store',
        'content-type': 'text/plain',
      })
      res.end(`body of ${req.url}`)
    },
  })
  t.after(() => origin.close())
  const prefix = `fo-${randomBytes(6).toString('hex')}:`
  const config = {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        { name: 'c', prefix: '/c', upstreams: [origin.url], cache: true },
        { name: 'l', prefix: '/l', upstreams: [origin.url], rateLimit: { max: 1_000_000, timeWindow: '1m' } },
      ],
    },
    cache: { store: 'redis' },
    redis: { ...target.redis, prefix, rateLimits: 'fail-open' },
    admin: { listen: '127.0.0.1:0' },
    log: { access: false },
  }
  const gws = [
    await startCli(t, ['--config', await writeConfig(t, config, 'one.json')], ['reverse', 'admin']),
    await startCli(t, ['--config', await writeConfig(t, config, 'two.json')], ['reverse', 'admin']),
  ]
  const agent = new Agent({ connections: 16, headersTimeout: 60_000, bodyTimeout: 60_000 })
  t.after(() => agent.close())
  const get = async (base: string, path: string) => {
    const res = await request(`${base}${path}`, { headers: { host: HOST }, dispatcher: agent })
    return {
      status: res.statusCode,
      cache: String(res.headers['cache-status'] ?? ''),
      body: await res.body.text(),
    }
  }
  const paths = Array.from({ length: URLS }, (_, i) => `/c/${i}`)
  for (const p of paths) assert.equal((await get(gws[0]!.urls.reverse!, p)).status, 200)
  for (const p of paths)
    assert.ok(await untilCached(gws[1]!.urls.reverse!, p, HOST, 20_000), `${p} stored in Redis`)

  // The load: bounded in time and count; every answer that is not a 200 with its body is a failure.
  const outcomes: Outcome[] = []
  let stop = false
  const hardEnd = Date.now() + 180_000
  const client = async (n: number) => {
    for (let i = 0; !stop && Date.now() < hardEnd && outcomes.length < 200_000; i++) {
      const base = gws[(n + i) % 2]!.urls.reverse!
      const path = i % 3 === 2 ? `/l/${n}-${i}` : paths[(n * 7 + i) % URLS]!
      const started = Date.now()
      try {
        const r = await get(base, path)
        const ok = r.status === 200 && r.body === `body of ${path}`
        outcomes.push({ ok, ms: Date.now() - started, detail: `${path}: ${r.status} ${r.body.slice(0, 80)}` })
      } catch (err) {
        outcomes.push({ ok: false, ms: Date.now() - started, detail: `${path}: ${(err as Error).message}` })
      }
    }
  }
  // /readyz and the dashboard's data, read all along.
  const readyStatuses = new Set<number>()
  let degradedSeen = false
  let dashboardDegraded = false
  const watch = async () => {
    while (!stop && Date.now() < hardEnd) {
      for (const g of gws) {
        try {
          const res = await fetch(`${g.urls.admin}/readyz`)
          readyStatuses.add(res.status)
          const body = (await res.json()) as { degraded: string[] }
          if (body.degraded.includes('redis')) degradedSeen = true
          // The whole history (a point a second), not only the latest: no race with the sampling.
          const live = (await (await fetch(`${g.urls.admin}/live`)).json()) as {
            history: Array<{ redis: boolean | null }>
          }
          if (live.history.some((p) => p.redis === false)) dashboardDegraded = true
        } catch {}
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const running = Promise.all([...Array.from({ length: 6 }, (_, n) => client(n)), watch()])
  try {
    await until('some load through both instances', async () => outcomes.length >= 200, 60_000)
    const victimKey = `${prefix}cache:u:http://${HOST}/c/0`
    const before = await target.primaryFor(victimKey)
    const killedPort = await target.killPrimary(victimKey)
    const killedAt = outcomes.length
    t.diagnostic(`killed the primary on port ${killedPort} after ${killedAt} requests`)
    let promoted: { port: number } | null = null
    await until(
      'a replica promoted',
      async () => {
        promoted = await target.primaryFor(victimKey)
        return promoted !== null && promoted.port !== killedPort
      },
      90_000,
    )
    assert.notEqual(before?.port, promoted!.port)
    t.diagnostic(`promoted: port ${promoted!.port} after ${outcomes.length - killedAt} more requests`)
    // Hits come back from Redis through both instances, for every URL (the failed shard's included).
    for (const g of gws)
      for (const p of paths)
        await until(
          `${p} a hit again through ${g.urls.reverse}`,
          async () => /hit/.test((await get(g.urls.reverse!, p)).cache),
          90_000,
        )
    const node = new Redis({ port: promoted!.port, host: '127.0.0.1', lazyConnect: true })
    t.after(() => node.disconnect())
    await node.connect()
    assert.equal(await node.exists(victimKey), 1, 'the promoted replica holds the entry it now serves')
    await until(
      'readyz no longer degraded on both',
      async () => {
        for (const g of gws) {
          const body = (await (await fetch(`${g.urls.admin}/readyz`)).json()) as { degraded: string[] }
          if (body.degraded.length > 0) return false
        }
        return true
      },
      60_000,
    )
  } finally {
    stop = true
    await running
  }
  const failed = outcomes.filter((o) => !o.ok)
  const longest = Math.max(...outcomes.map((o) => o.ms))
  t.diagnostic(`${outcomes.length} requests, ${failed.length} failed, longest ${longest} ms`)
  assert.deepEqual(
    failed.slice(0, 5).map((o) => o.detail),
    [],
    `${failed.length} of ${outcomes.length} requests failed`,
  )
  assert.deepEqual([...readyStatuses], [200], 'every /readyz answer was 200 (degraded is not unready)')
  assert.ok(degradedSeen, '/readyz named redis as degraded during the failover')
  assert.ok(dashboardDegraded, "the dashboard's data said redis was degraded")
  // Bounded by the Redis command timeouts (1 s), not by the failover: generous for a loaded machine.
  assert.ok(longest < 20_000, `longest request ${longest} ms`)
  for (const g of gws) assert.equal(await g.stop(), 0)
}
