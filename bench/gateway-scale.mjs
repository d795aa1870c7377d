#!/usr/bin/env node
// Gateway scale-out benchmark, in one run, every server a child process on loopback:
//
//   1. The reverse path through the gateway with `workers: 1` against `workers: 2` (node:cluster): req/s,
//      p50/p99, and the CPU seconds each process used (primary, workers, origin, load generator), so the
//      limit of a 2-core machine shared by the load generator, the origin and the gateway is visible.
//   2. Cache hits: one instance with the memory store against two instances sharing one Redis (loaded
//      together, half the connections each): the Redis-backed hit's p50 against the memory hit's.
//
//   node bench/gateway-scale.mjs      (BENCH_DURATION seconds per run, default 5; BENCH_CONNECTIONS 64)
//
// The gateway comes from apps/gateway/dist (build it first); redis-server must be installed for part 2.
import cluster from 'node:cluster'
import { fileURLToPath } from 'node:url'
import { freePort } from './lib/external.mjs'
import { startGatewayRole } from './lib/gateway-process.mjs'
import {
  cpuSecondsOf,
  hasCommand,
  measure,
  measureWrk,
  printTable,
  startProcess,
  stopAll,
} from './lib/harness.mjs'
import { sequentialLatency } from './lib/latency.mjs'
import { announce } from './lib/role.mjs'

const SELF = fileURLToPath(import.meta.url)
const DIST = new URL('../apps/gateway/dist/src/', import.meta.url)
const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const TESTING = new URL('../packages/core/dist/src/testing/index.js', import.meta.url)

// ---- child roles ---------------------------------------------------------------------------------------
/** The gateway from a JSON config (argv), through the same code the CLI runs (ops/). */
async function gatewayRole(configJson) {
  const { resolveConfig } = await import(new URL('index.js', DIST).href)
  const config = resolveConfig(JSON.parse(configJson))
  if (config.workers > 1) {
    if (cluster.isWorker) {
      const { runWorker } = await import(new URL('ops/cluster-worker.js', DIST).href)
      const w = await runWorker(config, null)
      process.on('SIGTERM', () => w.close().then(() => process.exit(0)))
      return
    }
    const { runPrimary } = await import(new URL('ops/cluster.js', DIST).href)
    const primary = await runPrimary(config, null)
    await primary.ready()
    announce(`http://127.0.0.1:${config.reverse.listen.port}`, () => primary.close(), {
      workers: primary.pids(),
    })
    return
  }
  const { startOperated } = await import(new URL('ops/run.js', DIST).href)
  const g = await startOperated(config, { configFile: null, sighup: false })
  announce(g.gateway.listeners.reverse.url, () => g.close(), { workers: [] })
}

// ---- helpers -------------------------------------------------------------------------------------------
const GATEWAY_START_MS = 120_000

/** A gateway role (`{ url, port, pid, workers, cpuSeconds(), stop() }`; `workers`: the worker pids). */
async function startGatewayProcess(configJson) {
  const gw = await startGatewayRole(SELF, configJson, GATEWAY_START_MS)
  return { ...gw, workers: gw.info.workers ?? [] }
}

/** A private redis-server (core's test helper), or null when it is not installed. */
async function startRedis() {
  if (!hasCommand('redis-server')) return null
  const { startRedisServer } = await import(TESTING.href)
  const server = await startRedisServer()
  return { url: server.url, pid: server.process.pid, stop: () => server.stop() }
}

function gatewayConfig(origin, port, extra = {}) {
  return JSON.stringify({
    reverse: {
      listen: `127.0.0.1:${port}`,
      routes: [{ name: 'bench', prefix: '/', upstreams: [origin], cache: extra.cache === true }],
    },
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'warn', access: false },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'cache')),
  })
}

const asProcess = (pid) => ({ pid, cpuSeconds: () => cpuSecondsOf(pid) })

/** CPU seconds used by each named process while `fn` runs. */
async function cpuDuring(processes, fn) {
  const before = processes.map((p) => p.cpuSeconds())
  const self0 = process.cpuUsage()
  const t0 = performance.now()
  const result = await fn()
  const seconds = (performance.now() - t0) / 1000
  const self = process.cpuUsage(self0)
  const used = processes.map((p, i) => ({ name: p.name, cpu: p.cpuSeconds() - before[i] }))
  used.push({ name: 'load generator (this process)', cpu: (self.user + self.system) / 1e6 })
  return { result, seconds, used }
}

function printCpu(title, { seconds, used }) {
  console.log(
    `\nCPU during "${title}" (${seconds.toFixed(1)} s wall, 2 cores = ${(2 * seconds).toFixed(1)} CPU-s available):`,
  )
  for (const u of used)
    console.log(
      `  ${u.name.padEnd(32)} ${u.cpu.toFixed(2).padStart(6)} CPU-s  (${((100 * u.cpu) / seconds).toFixed(0)}% of a core)`,
    )
}

// ---- the run -------------------------------------------------------------------------------------------
async function main() {
  const started = []
  const extras = []
  try {
    const origin = await startProcess(ORIGIN, [], { BODY_SIZE: '100', CACHE_CONTROL: 'public, max-age=600' })
    started.push(origin)
    console.log(`# proxykit gateway scale-out, GET 100 B, ${CONNECTIONS} connections, ${DURATION} s per run`)
    console.log('# figures from a loaded 2-core machine: compare rows of one table only')

    // 1. workers: 1 against workers: 2 on the reverse path (no cache).
    const results = []
    const wrkResults = []
    for (const workers of [1, 2]) {
      const port = await freePort()
      const gw = await startGatewayProcess(gatewayConfig(origin.url, port, { workers }))
      started.push(gw)
      const pids = workers > 1 ? gw.workers : []
      const procs = [
        { name: workers > 1 ? 'gateway primary' : 'gateway', ...asProcess(gw.pid) },
        ...pids.map((pid, i) => ({ name: `gateway worker ${i + 1}`, ...asProcess(pid) })),
        { name: 'origin', ...asProcess(origin.pid) },
      ]
      const server = [asProcess(gw.pid), ...pids.map(asProcess)]
      const name = `workers: ${workers}`
      const ac = await cpuDuring(procs, () =>
        measure({ name, url: `${gw.url}/`, connections: CONNECTIONS, duration: DURATION, server }),
      )
      results.push(ac.result)
      printCpu(`${name}, autocannon`, ac)
      const wrk = await cpuDuring(procs, () =>
        measureWrk({ name, url: `${gw.url}/`, connections: CONNECTIONS, duration: DURATION, server }),
      )
      if (wrk.result) {
        wrkResults.push(wrk.result)
        printCpu(`${name}, wrk`, wrk)
      }
      await gw.stop()
      console.log(
        `${name}: autocannon ${Math.round(ac.result.rps)} req/s, wrk ${Math.round(wrk.result?.rps ?? Number.NaN)} req/s`,
      )
    }
    printTable('reverse path, autocannon', results, 'workers: 1')
    if (wrkResults.length > 0) printTable('reverse path, wrk (1 thread)', wrkResults, 'workers: 1')

    // 2. Cache hits: memory store in one instance against two instances sharing Redis.
    const redis = await startRedis()
    if (redis === null) {
      console.log('\nredis-server is not installed: skipping the shared-cache comparison')
      return
    }
    extras.push(redis)
    const memPort = await freePort()
    const mem = await startGatewayProcess(gatewayConfig(origin.url, memPort, { cache: true }))
    started.push(mem)
    const shared = []
    for (let i = 0; i < 2; i++) {
      const port = await freePort()
      const withStore = JSON.parse(
        gatewayConfig(origin.url, port, {
          cache: true,
          redis: { url: redis.url, prefix: 'bench:gateway-scale:' },
        }),
      )
      withStore.cache = { store: 'redis' }
      const p = await startGatewayProcess(JSON.stringify(withStore))
      started.push(p)
      shared.push(p)
    }
    const hitUrl = (base) => `${base}/hit`
    // Behind an L4 balancer every instance sees the same Host, so they share one cache key.
    const host = { host: 'shared.bench' }
    const { request } = await import('undici')
    await (await request(hitUrl(mem.url), { headers: host })).body.arrayBuffer()
    await (await request(hitUrl(shared[0].url), { headers: host })).body.arrayBuffer()
    const hitCheck = await request(hitUrl(shared[1].url), { headers: host })
    await hitCheck.body.arrayBuffer()
    console.log(
      `\nsecond instance answers from the shared store: cache-status ${hitCheck.headers['cache-status']}`,
    )

    // Service time of one hit, one request at a time (no queueing): the latency comparison.
    const memLat = await sequentialLatency(hitUrl(mem.url), 2000, host)
    const redisLat = await sequentialLatency(hitUrl(shared[1].url), 2000, host)
    console.log(
      '\nsingle-request latency of a cache hit (2000 sequential requests on one keep-alive connection):',
    )
    console.log(`  memory store         p50 ${memLat.p50.toFixed(3)} ms  p99 ${memLat.p99.toFixed(3)} ms`)
    console.log(`  redis store          p50 ${redisLat.p50.toFixed(3)} ms  p99 ${redisLat.p99.toFixed(3)} ms`)
    console.log(
      `  Redis-backed hit p50 / memory hit p50 = ${(redisLat.p50 / memLat.p50).toFixed(2)}x (target ≤ 2x)`,
    )

    const memRun = await cpuDuring([{ name: 'memory instance', ...asProcess(mem.pid) }], () =>
      measure({
        name: 'memory store, 1 instance',
        url: hitUrl(mem.url),
        connections: CONNECTIONS,
        duration: DURATION,
        server: mem,
      }),
    )
    printCpu('memory hits', memRun)
    const half = Math.max(1, Math.floor(CONNECTIONS / 2))
    const redisProcs = [
      ...shared.map((p, i) => ({ name: `redis-backed instance ${i + 1}`, ...asProcess(p.pid) })),
      { name: 'redis-server', ...asProcess(redis.pid) },
    ]
    const redisRun = await cpuDuring(redisProcs, () =>
      Promise.all(
        shared.map((p, i) =>
          measure({
            name: `redis store, instance ${i + 1}`,
            url: hitUrl(p.url),
            connections: half,
            duration: DURATION,
            server: p,
          }),
        ),
      ),
    )
    printCpu('redis-backed hits through two instances', redisRun)
    const [a, b] = redisRun.result
    const combined = {
      name: 'redis store, 2 instances',
      tool: 'autocannon',
      rps: a.rps + b.rps,
      p50: (a.p50 + b.p50) / 2,
      p99: Math.max(a.p99, b.p99),
      errors: a.errors + b.errors,
      non2xx: a.non2xx + b.non2xx,
    }
    printTable('cache hits', [memRun.result, a, b, combined], 'memory store, 1 instance')
    const ratio = combined.p50 / memRun.result.p50
    console.log(
      `under load (${CONNECTIONS} connections): Redis-backed hit p50 / memory hit p50 = ${ratio.toFixed(2)}x`,
    )
  } finally {
    await stopAll(started)
    await Promise.allSettled(extras.map((e) => e.stop()))
  }
}

if (process.argv[2] === 'role') await gatewayRole(process.argv[4])
else await main()
