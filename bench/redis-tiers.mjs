#!/usr/bin/env node
// Issue 24's benchmark, in one run, every server a child process on loopback, on a real Redis Cluster
// (3 primaries, 3 replicas, started here with @proxykit/core/testing's startRedisCluster):
//
//   1. Local-tier hits (`cache: { store: redis, local: 16MiB }`) against the memory store's hits: req/s
//      (autocannon, one URL) and, in the `instructions` mode, instructions per hit under callgrind.
//   2. Shared-tier hits (no local tier: every hit read from the cluster) against local-tier hits: p50 and
//      p99 of single requests on one keep-alive connection (service time, no queueing), in rounds that
//      alternate the two (the machine's load moves between them), with the gateway's CPU per request.
//      Beside them, the floor of one Redis read on this machine: the same single requests to a bare
//      node:http server answering 1 KiB from memory, and the same server reading it first with one HGETALL
//      through the cluster client the gateway uses; and a bare socket's HGETALL round trip to the node.
//   3. Zipf: two instances sharing the cluster (each with a local tier smaller than the working set)
//      against one instance with the memory store (the same size), loaded with paths drawn from a Zipf
//      distribution (s = 1) over a working set larger than one local tier: req/s and hit ratio (the
//      gateways' own lookup counters, /metrics).
//   4. Failover: two instances on the cluster under a bounded load; a primary is SIGKILLed a third of the
//      way in: failed requests (expected 0) and the longest request (the stall).
//
//   node bench/redis-tiers.mjs                 parts 1-4 (req/s: valid only on a quiet machine)
//   node bench/redis-tiers.mjs instructions    part 1 in instructions per hit (valid on a busy machine)
//                                              (BENCH_CG_IDLE=N: subtract N s of an idle window's once-a-second work,
//                                              which the Redis-backed gateway has more of: health checks, heartbeats)
//   BENCH_DURATION (s per run, default 10), BENCH_CONNECTIONS (64), BENCH_ZIPF_URLS (20000),
//   BENCH_FAILOVER_SECONDS (30), BENCH_PARTS (1,2,3,4: which parts run), BENCH_LATENCY_REQUESTS (3000: part 2's single requests per row)
//   BENCH_LATENCY_ROUNDS (3: part 2's alternating rounds), BENCH_LATENCY_WARMUP (10000: single requests to
//   each of part 2's servers before its rounds)
//
// Every load is bounded by its duration (the failover loop by BENCH_FAILOVER_SECONDS and a request cap).
// The gateway comes from apps/gateway/dist, the cluster helper from packages/core/dist (build first).
import { createServer } from 'node:http'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { makeTempDir } from './lib/external.mjs'
import { startGatewayRole } from './lib/gateway-process.mjs'
import { hasCommand, measure, printTable, startProcess } from './lib/harness.mjs'
import { countLine, instructionsPerRequest, requireCallgrind } from './lib/instructions.mjs'
import { sequentialLatency } from './lib/latency.mjs'
import { announce } from './lib/role.mjs'

const SELF = fileURLToPath(import.meta.url)
const DIST = new URL('../apps/gateway/dist/src/', import.meta.url)
const TESTING = new URL('../packages/core/dist/src/testing/index.js', import.meta.url)
const REDIS_CLIENT = new URL('../packages/cache/dist/src/stores/redis-client.js', import.meta.url)
const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const ZIPF_URLS = Number(process.env.BENCH_ZIPF_URLS ?? 20_000)
const FAILOVER_SECONDS = Number(process.env.BENCH_FAILOVER_SECONDS ?? 30)
const PARTS = new Set((process.env.BENCH_PARTS ?? '1,2,3,4').split(','))
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const BODY_SIZE = 1024
/** The local tier and the memory store of part 3: 4 MiB, about 3,000 of the 1 KiB entries (with heads). */
const SMALL_TIER = 4 * 1024 * 1024
const HOST = { host: 'tiers.bench' }
const ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3)
const WARMUP = Number(process.env.BENCH_LATENCY_WARMUP ?? 10_000)
/** Where part 2's gateways keep /hit: their prefix, the store's `cache:`, then `u:` and the URL. */
const HIT_KEY = 'bench:t1:cache:u:http://tiers.bench/hit'

// ---- child roles ---------------------------------------------------------------------------------------
/** The gateway from a JSON config (argv), through the code the CLI runs. */
async function gatewayRole(configJson) {
  const { resolveConfig } = await import(new URL('index.js', DIST).href)
  const { startOperated } = await import(new URL('ops/run.js', DIST).href)
  const g = await startOperated(resolveConfig(JSON.parse(configJson)), { configFile: null, sighup: false })
  announce(g.gateway.listeners.reverse.url, undefined, { admin: g.gateway.listeners.admin.url })
  process.on('SIGTERM', () => g.close().then(() => process.exit(0)))
}

/**
 * The floor of part 2: a bare node:http server answering 1 KiB from memory (/memory), or (/redis) what it
 * reads with one HGETALL of the shared gateway's entry through a cluster client made as the gateway makes
 * its own (createRedisClient, one command at a time, the same timeouts).
 */
async function floorRole(clusterUrl) {
  const { createRedisClient } = await import(REDIS_CLIENT.href)
  const redis = createRedisClient(
    { cluster: [clusterUrl] },
    { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000 },
  )
  await new Promise((resolve) => redis.once('ready', resolve))
  const memory = Buffer.alloc(BODY_SIZE, 'x')
  const server = createServer((req, res) => {
    const answer = (body) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      res.end(body)
    }
    if (req.url !== '/redis') return answer(memory)
    redis.hgetallBuffer(HIT_KEY).then(
      (fields) => {
        JSON.parse(fields['m:-'].toString('utf8'))
        answer(fields['b:-'])
      },
      () => {
        res.writeHead(502)
        res.end()
      },
    )
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  announce(`http://127.0.0.1:${server.address().port}`, async () => {
    redis.disconnect()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
}

/**
 * p50 and p99 (ms) of `count` HGETALLs of `key`, one at a time, on a bare socket to the node that holds it
 * (a MOVED answer names it): one loopback round trip to Redis and nothing else.
 */
async function socketRoundTrip(clusterUrl, key, count) {
  const command = Buffer.from(`*2\r\n$7\r\nHGETALL\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`)
  let { hostname: host, port } = new URL(clusterUrl)
  for (let hop = 0; hop < 3; hop++) {
    const socket = connect({ host, port: Number(port), noDelay: true })
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    let onData = null
    socket.on('data', (chunk) => onData?.(chunk))
    // The whole first answer (read until it stops coming): its length tells when each later one is in.
    const first = await new Promise((resolve) => {
      const parts = []
      let quiet = null
      onData = (chunk) => {
        parts.push(chunk)
        clearTimeout(quiet)
        quiet = setTimeout(() => resolve(Buffer.concat(parts)), 100)
      }
      socket.write(command)
    })
    const moved = /^-MOVED \d+ ([^\r]+):(\d+)/.exec(first.toString('latin1'))
    if (moved !== null) {
      socket.destroy()
      ;[, host, port] = moved
      continue
    }
    const once = () =>
      new Promise((resolve) => {
        let got = 0
        onData = (chunk) => {
          got += chunk.length
          if (got >= first.length) resolve()
        }
        socket.write(command)
      })
    for (let i = 0; i < 200; i++) await once()
    const times = []
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      await once()
      times.push(performance.now() - t0)
    }
    socket.destroy()
    times.sort((a, b) => a - b)
    return { p50: times[Math.floor(count / 2)], p99: times[Math.floor(count * 0.99)] }
  }
  throw new Error(`${key}: no node answered it`)
}

// ---- helpers -------------------------------------------------------------------------------------------
function gatewayConfig(origin, cache, redis) {
  return JSON.stringify({
    reverse: {
      listen: '127.0.0.1:0',
      routes: [{ name: 'bench', prefix: '/', upstreams: [origin], cache: true }],
    },
    cache,
    ...(redis === undefined ? {} : { redis }),
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'warn', access: false },
  })
}

const GATEWAY_START_MS = 180_000

/**
 * Starts a gateway role (lib/gateway-process.mjs, with a start timeout long enough for a loaded 2-core
 * machine: loading the gateway's modules took 40 s at load 50), with its admin URL at hand.
 */
async function startGateway(config) {
  const g = await startGatewayRole(SELF, config, GATEWAY_START_MS)
  return { ...g, admin: g.info.admin }
}

async function get(url) {
  const { request } = await import('undici')
  const res = await request(url, { headers: HOST })
  await res.body.dump()
  return { status: res.statusCode, cache: String(res.headers['cache-status'] ?? '') }
}

/** Asks `url` until it is a hit (`local`: a hit served by the local tier, counted by nothing else). */
async function untilHit(url) {
  for (let i = 0; i < 200; i++) {
    if (/hit/.test((await get(url)).cache)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${url} never became a hit`)
}

/**
 * p50 and p99 (ms) of `count` single requests on one keep-alive connection (lib/latency.mjs), and the
 * gateway's CPU time per request (ms; less dependent on the machine's load than the latencies).
 */
async function latencyAndCpu(url, server, count = Number(process.env.BENCH_LATENCY_REQUESTS ?? 3000)) {
  const cpu0 = server.cpuSeconds()
  const { p50, p99 } = await sequentialLatency(url, count, HOST)
  return { p50, p99, cpuMs: ((server.cpuSeconds() - cpu0) * 1000) / count }
}

/** Paths /z/0 … /z/(n-1), drawn with probability proportional to 1 / (rank + 1). */
function zipf(n) {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1)
    cdf[i] = sum
  }
  return () => {
    const x = Math.random() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid] < x) lo = mid + 1
      else hi = mid
    }
    return `/z/${lo}`
  }
}

/** Cache lookups summed over `gateways` (from their /metrics): all of them, and the hits (fresh or stale). */
async function lookups(gateways) {
  const sums = { hit: 0, all: 0 }
  for (const g of gateways) {
    const text = await (await fetch(`${g.admin}/metrics`)).text()
    for (const m of text.matchAll(/^proxykit_cache_requests_total\{[^}]*result="(\w+)"[^}]*\} (\d+)/gm)) {
      sums.all += Number(m[2])
      if (m[1] === 'hit' || m[1] === 'stale') sums.hit += Number(m[2])
    }
  }
  return sums
}

/** autocannon over Zipf-drawn paths, `gateways` sharing the connections: req/s summed, and the hit ratio. */
async function zipfLoad(name, gateways) {
  const { default: autocannon } = await import('autocannon')
  const next = zipf(ZIPF_URLS)
  const before = await lookups(gateways)
  const runs = await Promise.all(
    gateways.map(({ url: base }) =>
      autocannon({
        url: base,
        connections: Math.max(1, Math.floor(CONNECTIONS / gateways.length)),
        duration: DURATION,
        headers: HOST,
        requests: [{ setupRequest: (req) => ({ ...req, path: next() }) }],
      }),
    ),
  )
  const errors = runs.reduce((n, r) => n + r.errors + r.non2xx, 0)
  const after = await lookups(gateways)
  const all = after.all - before.all
  return {
    name,
    tool: 'autocannon',
    rps: runs.reduce((n, r) => n + r.requests.average, 0),
    p50: Math.max(...runs.map((r) => r.latency.p50)),
    p99: Math.max(...runs.map((r) => r.latency.p99)),
    errors,
    non2xx: 0,
    hitRatio: all > 0 ? (after.hit - before.hit) / all : 0,
  }
}

/**
 * Two instances under a bounded load (16 clients, alternating, `FAILOVER_SECONDS` or 500,000 requests);
 * a primary is SIGKILLed a third of the way in.
 */
async function failoverRun(cluster, bases) {
  const { Agent, request } = await import('undici')
  const agent = new Agent({ connections: 16, headersTimeout: 60_000, bodyTimeout: 60_000 })
  const paths = Array.from({ length: 64 }, (_, i) => `/f/${i}`)
  for (const p of paths) await get(`${bases[0]}${p}`)
  let requests = 0
  let failed = 0
  let longest = 0
  const firstErrors = []
  const end = Date.now() + FAILOVER_SECONDS * 1000
  const client = async (n) => {
    for (let i = 0; Date.now() < end && requests < 500_000; i++) {
      const url = `${bases[(n + i) % bases.length]}${paths[(n * 13 + i) % paths.length]}`
      const t0 = performance.now()
      requests++
      try {
        const res = await request(url, { headers: HOST, dispatcher: agent })
        await res.body.dump()
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
      } catch (err) {
        failed++
        if (firstErrors.length < 5) firstErrors.push(err.message)
      }
      longest = Math.max(longest, performance.now() - t0)
    }
  }
  const load = Promise.all(Array.from({ length: 16 }, (_, n) => client(n)))
  await new Promise((r) => setTimeout(r, (FAILOVER_SECONDS * 1000) / 3))
  // 64 paths spread over the three shards: a third of the requests meet the failed one.
  const [victim] = await cluster.primaries()
  const killedAt = Date.now()
  await victim.kill()
  console.log(`killed the primary on port ${victim.port} after ${requests} requests`)
  await load
  await agent.close()
  return { requests, failed, longest, firstErrors, afterKillMs: end - killedAt }
}

// ---- scenarios -----------------------------------------------------------------------------------------
async function withCluster(fn) {
  if (!hasCommand('redis-server')) throw new Error('redis-server is not installed')
  const { startRedisCluster } = await import(TESTING.href)
  const cluster = await startRedisCluster({ timeoutMs: 120_000 })
  // Stopped (its six redis-servers) when the run is interrupted too.
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.once(signal, () => cluster.stop().finally(() => process.exit(130)))
  const started = []
  try {
    // 1 KiB answers that may be cached for ten minutes.
    const origin = await startProcess(ORIGIN, [], {
      BODY_SIZE: String(BODY_SIZE),
      CACHE_CONTROL: 'public, max-age=600',
    })
    started.push(origin)
    await fn(cluster, origin, started)
  } finally {
    for (const p of started.reverse()) await p.stop().catch(() => {})
    await cluster.stop()
  }
}

const redisOf = (cluster, prefix) => ({ cluster: [cluster.urls[0]], prefix })

async function main() {
  await withCluster(async (cluster, origin, started) => {
    console.log(
      `# issue 24: Redis tiers on a 3+3 Redis Cluster, ${CONNECTIONS} connections, ${DURATION} s per run`,
    )
    if (PARTS.has('1') || PARTS.has('2')) await hits(cluster, origin, started)
    if (PARTS.has('3')) await zipfParts(cluster, origin, started)
    if (PARTS.has('4')) await failoverPart(cluster, origin, started)
  })
}

/** Parts 1 and 2: one URL, hits three ways. */
async function hits(cluster, origin, started) {
  const mem = await startGateway(gatewayConfig(origin.url, { store: 'memory' }))
  const local = await startGateway(
    gatewayConfig(origin.url, { store: 'redis', local: '16MiB' }, redisOf(cluster, 'bench:t1:')),
  )
  const shared = await startGateway(
    gatewayConfig(origin.url, { store: 'redis' }, redisOf(cluster, 'bench:t1:')),
  )
  started.push(mem, local, shared)
  for (const g of [mem, local, shared]) await untilHit(`${g.url}/hit`)
  const rows = []
  for (const [name, g] of [
    ['memory store hit', mem],
    ['local-tier hit', local],
  ])
    rows.push(
      await measure({
        name,
        url: `${g.url}/hit`,
        headers: HOST,
        connections: CONNECTIONS,
        duration: DURATION,
        server: g,
      }),
    )
  printTable('1. hits, one URL', rows, 'memory store hit')
  const floor = await startProcess(SELF, ['role', 'floor', cluster.urls[0]])
  started.push(floor)
  const targets = [
    ['local-tier hit', `${local.url}/hit`, local],
    ['shared-tier hit', `${shared.url}/hit`, shared],
    ['floor: node:http, from memory', `${floor.url}/memory`, floor],
    ['floor: node:http, one HGETALL', `${floor.url}/redis`, floor],
  ]
  console.log(
    '\n2. single-request latency, one keep-alive connection (ms; CPU: the serving process, ms/request)',
  )
  // Each server's answer path is run hot first: a path new to the JIT costs several times its warm CPU
  // (part 2 measured on a shared-tier gateway that had served a handful of requests, against a local one
  // warmed by part 1's load, gave 0.67 against 0.16 ms CPU per shared hit in a first round and a third;
  // with --trace-opt, a gateway's hit path still gets optimized over its first 6,000-9,000 hits).
  for (const [, url] of targets) await sequentialLatency(url, WARMUP, HOST)
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    const row = []
    for (const [, url, server] of targets) row.push(await latencyAndCpu(url, server))
    const socket = await socketRoundTrip(
      cluster.urls[0],
      HIT_KEY,
      Number(process.env.BENCH_LATENCY_REQUESTS ?? 3000),
    )
    rounds.push({ row, socket })
    console.log(`round ${r + 1}`)
    for (const [i, l] of row.entries())
      console.log(
        `  ${targets[i][0].padEnd(30)} p50 ${l.p50.toFixed(3)}  p99 ${l.p99.toFixed(3)}  CPU ${l.cpuMs.toFixed(4)}`,
      )
    console.log(
      `  ${'bare socket HGETALL round trip'.padEnd(30)} p50 ${socket.p50.toFixed(3)}  p99 ${socket.p99.toFixed(3)}`,
    )
    console.log(
      `  shared / local p50: ${(row[1].p50 / row[0].p50).toFixed(2)}x (target at most 2x); floor: ${(row[3].p50 / row[2].p50).toFixed(2)}x`,
    )
  }
  const median = (xs) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]
  const ratio = (i, j) => median(rounds.map(({ row }) => row[i].p50 / row[j].p50))
  console.log(
    `median over ${ROUNDS} rounds: shared / local p50 ${ratio(1, 0).toFixed(2)}x (target at most 2x); floor (one HGETALL / from memory) ${ratio(3, 2).toFixed(2)}x; shared p99 ${median(rounds.map(({ row }) => row[1].p99)).toFixed(3)} ms; bare socket round trip p50 ${median(rounds.map(({ socket }) => socket.p50)).toFixed(3)} ms`,
  )
  await floor.stop()
  for (const g of [mem, local, shared]) await g.stop()
}

/** Part 3: Zipf over a working set larger than one local tier. */
async function zipfParts(cluster, origin, started) {
  const one = await startGateway(gatewayConfig(origin.url, { store: 'memory', maxSize: SMALL_TIER }))
  started.push(one)
  const pair = []
  for (let i = 0; i < 2; i++) {
    const g = await startGateway(
      gatewayConfig(origin.url, { store: 'redis', local: SMALL_TIER }, redisOf(cluster, 'bench:t3:')),
    )
    started.push(g)
    pair.push(g)
  }
  console.log(
    `\n3. Zipf (s = 1) over ${ZIPF_URLS} URLs of 1 KiB; local tier and memory store ${SMALL_TIER >> 20} MiB each`,
  )
  // A first run of each fills the stores; the second is measured.
  await zipfLoad('warm', [one])
  await zipfLoad('warm', pair)
  const z = [
    await zipfLoad('one instance, memory store', [one]),
    await zipfLoad('two instances, cluster + local tier', pair),
  ]
  printTable('3. Zipf working set', z, 'one instance, memory store')
  for (const r of z) console.log(`${r.name}: hit ratio ${(100 * r.hitRatio).toFixed(1)}%`)
  for (const g of [one, ...pair]) await g.stop()
}

/** Part 4: failover under load. */
async function failoverPart(cluster, origin, started) {
  const prefix = 'bench:t4:'
  const fo = []
  for (let i = 0; i < 2; i++) {
    const g = await startGateway(gatewayConfig(origin.url, { store: 'redis' }, redisOf(cluster, prefix)))
    started.push(g)
    fo.push(g)
  }
  console.log(
    `\n4. failover: two instances, 16 clients, ${FAILOVER_SECONDS} s, a primary SIGKILLed at a third`,
  )
  const r = await failoverRun(
    cluster,
    fo.map((g) => g.url),
  )
  console.log(
    `${r.requests} requests, ${r.failed} failed${r.firstErrors.length ? ` (${r.firstErrors.join('; ')})` : ''}, longest request ${r.longest.toFixed(0)} ms`,
  )
}

async function instructions() {
  requireCallgrind()
  await withCluster(async (cluster, origin) => {
    const dir = await makeTempDir('proxykit-redis-tiers-')
    const results = []
    for (const [tag, cache, redis] of [
      ['memory', { store: 'memory' }, undefined],
      ['local', { store: 'redis', local: '16MiB' }, redisOf(cluster, 'bench:cg:')],
    ]) {
      const config = JSON.parse(gatewayConfig(origin.url, cache, redis))
      // Under valgrind a request head can take longer than the 10 s a slow client is given.
      config.reverse.clientTimeouts = { header: '10m', idle: '10m' }
      const r = await instructionsPerRequest({
        dir,
        tag,
        script: SELF,
        args: ['role', 'gateway', JSON.stringify(config)],
        path: '/hit',
        idleSeconds: Number(process.env.BENCH_CG_IDLE ?? 0),
        load: async (port, count) => {
          const { Pool } = await import('undici')
          const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 })
          let left = count
          const worker = async () => {
            while (left-- > 0) {
              const res = await pool.request({ path: '/hit', method: 'GET', headers: HOST })
              await res.body.dump()
              if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
            }
          }
          try {
            await Promise.all(Array.from({ length: 8 }, worker))
          } finally {
            await pool.close()
          }
        },
      })
      results.push([tag, r])
      console.log(countLine(tag === 'memory' ? 'memory store hit' : 'local-tier hit  ', r, 'hit'))
    }
    const [[, m], [, l]] = results
    console.log(
      `local-tier hit / memory store hit: ${(l.perRequest / m.perRequest).toFixed(3)}x instructions`,
    )
  })
}

const [mode, role, arg] = process.argv.slice(2)
if (mode === 'role') {
  if (role === 'gateway') await gatewayRole(arg)
  else if (role === 'floor') await floorRole(arg)
  else throw new Error(`unknown role ${role}`)
} else if (mode === 'instructions') await instructions()
else await main()
