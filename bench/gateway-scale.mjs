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
import { spawn } from 'node:child_process'
import cluster from 'node:cluster'
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import {
  cpuSecondsOf,
  hasCommand,
  measure,
  measureWrk,
  printTable,
  startProcess,
  stopAll,
} from './lib/harness.mjs'

const SELF = fileURLToPath(import.meta.url)
const DIST = new URL('../apps/gateway/dist/src/', import.meta.url)
const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const BODY = Buffer.alloc(100, 'x')

// ---- child roles ---------------------------------------------------------------------------------------
function announce(url, extra = {}) {
  process.stdout.write(`${JSON.stringify({ url, port: Number(new URL(url).port), ...extra })}\n`)
}

/** An origin whose answers may be cached for ten minutes (100-byte body). */
async function originRole() {
  const server = http.createServer((req, res) => {
    req.resume()
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': BODY.length,
      'cache-control': 'public, max-age=600',
    })
    res.end(BODY)
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  announce(`http://127.0.0.1:${server.address().port}`)
  const stop = () => {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

/** The gateway from a JSON config (argv), through the same code the CLI runs (ops/). */
async function gatewayRole(configJson) {
  const { resolveConfig } = await import(new URL('index.js', DIST).href)
  const config = resolveConfig(JSON.parse(configJson))
  if (config.workers > 1) {
    const { runPrimary, runWorker } = await import(new URL('ops/cluster.js', DIST).href)
    if (cluster.isWorker) {
      const w = await runWorker(config, null)
      process.on('SIGTERM', () => w.close().then(() => process.exit(0)))
      return
    }
    const primary = await runPrimary(config, null)
    await primary.ready()
    announce(`http://127.0.0.1:${config.reverse.listen.port}`, { workers: primary.pids() })
    process.on('SIGTERM', () => primary.close().then(() => process.exit(0)))
    return
  }
  const { startOperated } = await import(new URL('ops/run.js', DIST).href)
  const g = await startOperated(config, { configFile: null, sighup: false })
  announce(g.gateway.listeners.reverse.url, { workers: [] })
  process.on('SIGTERM', () => g.close().then(() => process.exit(0)))
}

// ---- helpers -------------------------------------------------------------------------------------------
const GATEWAY_START_MS = 120_000

/**
 * Starts a gateway role and waits for its {url, port} line. Like the harness's startProcess, with a longer
 * start timeout: on a loaded 2-core machine, workers loading every plugin at once take a while.
 */
function startGatewayProcess(configJson) {
  const child = spawn(process.execPath, [SELF, 'role', 'gateway', configJson], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = once(child, 'exit')
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(timer)
  }
  return new Promise((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(() => {
      stop().then(() => reject(new Error(`the gateway did not start within ${GATEWAY_START_MS} ms`)))
    }, GATEWAY_START_MS)
    child.once('exit', (code, signal) =>
      reject(new Error(`the gateway exited (${signal ?? code}) before listening`)),
    )
    child.stdout.on('data', (chunk) => {
      buffer += chunk
      let nl = buffer.indexOf('\n')
      while (nl >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        nl = buffer.indexOf('\n')
        let info
        try {
          info = JSON.parse(line)
        } catch {
          continue
        }
        if (typeof info.port !== 'number' || info.level !== undefined) continue
        clearTimeout(timer)
        child.stdout.resume()
        const pid = child.pid
        resolve({
          url: info.url,
          port: info.port,
          pid,
          workers: info.workers ?? [],
          cpuSeconds: () => cpuSecondsOf(pid),
          stop,
        })
      }
    })
  })
}

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

async function startRedis() {
  if (!hasCommand('redis-server')) return null
  const port = await freePort()
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy()
        r(true)
      })
      c.once('error', () => r(false))
    })
    if (ok) break
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
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

/**
 * Latency of single requests (one keep-alive connection, one request at a time, `count` of them): the
 * service time of a hit, without queueing behind 64 connections. Returns p50 and p99 in ms.
 */
async function sequentialLatency(url, count = 2000, headers = {}) {
  const { Client } = await import('undici')
  const u = new URL(url)
  const client = new Client(u.origin, { pipelining: 1 })
  const times = []
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      const res = await client.request({ path: u.pathname, method: 'GET', headers })
      await res.body.arrayBuffer()
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
      times.push(performance.now() - t0)
    }
  } finally {
    await client.close()
  }
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(count / 2)], p99: times[Math.floor(count * 0.99)] }
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
    const origin = await startProcess(SELF, ['role', 'origin'])
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

if (process.argv[2] === 'role') {
  if (process.argv[3] === 'origin') await originRole()
  else await gatewayRole(process.argv[4])
} else await main()
