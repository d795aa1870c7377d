#!/usr/bin/env node
// Gateway benchmark: what the gateway's own layer (access log, metrics hooks, in-flight and socket
// tracking) costs on top of the reverse-proxy plugin, side by side in one run, every server a child
// process on loopback:
//   direct            the origin itself (the ceiling)
//   plugin            Fastify + @proxykit/reverse-proxy, one upstream, no logger (the baseline)
//   gateway-nolog     startGateway() reverse listener, access log off (metrics still on)
//   gateway-log       the same with the pino access log on (a file, synchronous writes: the CLI's default
//                     is stdout, also synchronous)
//   gateway-log-async the access log through pino.destination({ sync: false })
//
//   node bench/gateway.mjs       (BENCH_DURATION seconds per measurement, default 5; BENCH_CONNECTIONS 64)
//
// Issue 28 (the gateway against the same plugins on a bare Fastify, every server one process):
//   node bench/gateway.mjs instructions   user-space instructions per request under callgrind, one server
//                                         at a time, for three paths: reverse with the cache on and every
//                                         request a miss, a 100 B cache hit, forward absolute-form; each
//                                         as `bare` (the plugins the gateway composes, same options, no
//                                         logger), `gw` (startOperated, the CLI's code: access log on
//                                         stdout, metrics, admin listener) and `gw-nolog` (log.access off)
//                                         (BENCH_PATHS=miss,hit,forward to run some only)
//   node bench/gateway.mjs pairs          req/s and CPU per request of `gw` against `bare` natively, in
//                                         alternating wrk pairs, for the same three paths (see gatewayPairs)
//   node bench/gateway.mjs memory         RSS of `bare` and `gw` (reverse, cache on) after 20,000 misses on
//                                         64 connections, then the RSS each idle keep-alive connection
//                                         adds at 1,000 and 10,000 connections (one request each, from
//                                         40 loopback addresses: the gateway caps 256 per client address),
//                                         with each role's heap after a forced collection beside it
//   node bench/gateway.mjs accesslog      item 2: access log on against off, in instructions per request
//                                         (the idle per-second work subtracted) and CPU ms per request
//                                         in native pairs (see accessLog below for its variables)
//   node bench/gateway.mjs accessline     item 2: instructions per access line outside a server, the old
//                                         path (pino, sonic-boom) against the new (access-line.ts)
//   node bench/gateway.mjs workers        item 4: the CLI with workers 1 and 2 beside nginx with one and
//                                         two workers, reverse to a 100 B origin (see workersScaling)
//
// The gateway is imported from apps/gateway/dist (build it first; BENCH_GATEWAY_DIST=dist-base for another
// build beside it). BENCH_CG_KEEP=1 keeps the callgrind dumps of the instruction modes for
// callgrind_annotate. Stops everything it started.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measureTarget, printTable, startProcess, stopAll } from './lib/harness.mjs'
import { announce, serve } from './lib/role.mjs'

const SELF = fileURLToPath(import.meta.url)
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
// BENCH_GATEWAY_DIST: another build of the gateway to measure (a directory beside apps/gateway/dist, so
// that it resolves the same node_modules), e.g. a copy of dist built from an earlier commit.
const DIST_DIR = process.env.BENCH_GATEWAY_DIST ?? 'dist'
const GATEWAY = new URL(`../apps/gateway/${DIST_DIR}/src/index.js`, import.meta.url).href
const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)

// ---- child roles ---------------------------------------------------------------------------------------
const DIST = new URL(`../apps/gateway/${DIST_DIR}/src/`, import.meta.url)

/** The gateway config of one issue-28 path (`miss`, `hit`, `forward`) against `origin`. */
function pathConfig(path, origin, access) {
  const log = { access }
  const admin = { listen: '127.0.0.1:0' }
  if (path === 'forward') return { forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'] }, admin, log }
  return {
    reverse: { listen: '127.0.0.1:0', routes: [{ name: 'r', upstreams: [origin], cache: true }] },
    admin,
    log,
  }
}

/** The `bare` role's plugin options, as the gateway's compose/ functions derive them from the same config. */
async function bareOptionsFor(path, origin) {
  const { resolveConfig } = await import(new URL('index.js', DIST).href)
  const config = resolveConfig(pathConfig(path, origin, false))
  if (path === 'forward') {
    const { forwardAccessOptions } = await import(new URL('compose/access.js', DIST).href)
    const { forwardProxyOptions } = await import(new URL('compose/forward.js', DIST).href)
    return JSON.stringify({
      access: forwardAccessOptions(config.forward),
      proxy: forwardProxyOptions(config.forward),
    })
  }
  const { reverseProxyOptions } = await import(new URL('compose/reverse.js', DIST).href)
  return JSON.stringify({
    proxy: reverseProxyOptions(config.reverse.routes, config.reverse.stripRequestHeaders),
  })
}

/**
 * Issue 28's roles: `bare` registers the plugins the gateway composes for `path`, with the options its
 * compose/ functions derive from the same config, on a Fastify with no logger; `gw` and `gw-nolog` run
 * the gateway as the CLI does (startOperated: pino on stdout, metrics, live stats, the admin listener).
 */
async function pathRole(name, path, origin, bareOptions) {
  // The memory mode's probe: SIGUSR2 prints this process's memory (after two full collections when
  // started with --expose-gc) as one JSON line on stdout, read by the parent (memoryOf).
  process.on('SIGUSR2', () => {
    globalThis.gc?.()
    globalThis.gc?.()
    const m = process.memoryUsage()
    process.stdout.write(`${JSON.stringify({ memory: m })}\n`)
  })
  if (name === 'bare') {
    // The options come from the parent (bareOptionsFor): importing the gateway here would load its
    // modules too, and the bare process's memory is one of the figures.
    const options = JSON.parse(bareOptions)
    const { default: Fastify } = await import('fastify')
    const app = Fastify({ logger: false })
    if (path === 'forward') {
      const { default: accessControl } = await import('@proxykit/access-control')
      const { default: forwardProxy } = await import('@proxykit/forward-proxy')
      await app.register(accessControl, options.access)
      await app.register(forwardProxy, options.proxy)
    } else {
      const { default: cache } = await import('@proxykit/cache')
      const { default: reverseProxy } = await import('@proxykit/reverse-proxy')
      await app.register(cache, {})
      await app.register(reverseProxy, options.proxy)
    }
    return serve(app)
  }
  const { resolveConfig } = await import(new URL('index.js', DIST).href)
  const config = resolveConfig(pathConfig(path, origin, name !== 'gw-nolog'))
  const { startOperated } = await import(new URL('ops/run.js', DIST).href)
  const operated = await startOperated(config, { configFile: null })
  const l = operated.gateway.listeners[path === 'forward' ? 'forward' : 'reverse']
  if (process.env.BENCH_CG_QUIET === '1') {
    // For instruction counts on a loaded machine: what runs once a second whatever the traffic (the live
    // statistics' sample of the registry, Node's connection checks) is stopped, since under valgrind it
    // is spread over the few requests a second served, and the idle window subtracted for it varies
    // more than the costs compared. Both sides of a comparison lose the same work.
    operated.live.close()
    for (const listener of Object.values(operated.gateway.listeners)) {
      const server = listener?.app.server
      if (server == null) continue
      const timer = Object.getOwnPropertySymbols(server).find(
        (s) => s.description === 'http.server.connectionsCheckingInterval',
      )
      if (timer !== undefined) clearInterval(server[timer])
    }
  }
  announce(l.url, () => operated.close())
}

async function role(name, upstream, logFile) {
  if (name === 'plugin') {
    const { default: Fastify } = await import('fastify')
    const { default: reverseProxy } = await import('@proxykit/reverse-proxy')
    const app = Fastify({ logger: false })
    await app.register(reverseProxy, { routes: [{ upstreams: [upstream] }] })
    return serve(app)
  }
  const { resolveConfig, startGateway } = await import(GATEWAY)
  const { default: pino } = await import(
    new URL('../apps/gateway/node_modules/pino/pino.js', import.meta.url).href
  )
  const config = resolveConfig({
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [upstream] }] },
    admin: { listen: '127.0.0.1:0' },
    log: { access: name !== 'gateway-nolog' },
  })
  const logger = pino(
    { level: 'info' },
    pino.destination({ dest: logFile, sync: name !== 'gateway-log-async' }),
  )
  const gateway = await startGateway(config, { logger })
  announce(gateway.listeners.reverse.url, () => gateway.close(1000))
}

// ---- the run -------------------------------------------------------------------------------------------
async function main() {
  const started = []
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-gw-bench-'))
  try {
    const origin = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(origin)
    const targets = [{ name: 'direct', url: origin.url, pid: null }]
    for (const name of ['plugin', 'gateway-nolog', 'gateway-log', 'gateway-log-async']) {
      const p = await startProcess(SELF, ['role', name, origin.url, join(dir, `${name}.log`)])
      started.push(p)
      targets.push({ name, url: p.url, pid: p.pid })
    }
    const ac = []
    const wrk = []
    const cpu = []
    for (const t of targets) {
      const m = await measureTarget(t, { duration: DURATION, connections: CONNECTIONS })
      ac.push(m.ac)
      if (t.pid !== null) cpu.push({ name: t.name, us: m.cpuUsPerReq })
      wrk.push(m.wrk)
    }
    console.log(`# gateway reverse listener, GET 100 B, ${CONNECTIONS} connections, ${DURATION} s per run`)
    printTable('autocannon', ac, 'plugin')
    if (wrk.some(Boolean)) printTable('wrk (1 thread)', wrk, 'plugin')
    console.log('\nCPU per request in the proxy process during the autocannon run:')
    for (const c of cpu) console.log(`  ${c.name.padEnd(18)} ${c.us.toFixed(0).padStart(6)} µs/req`)
  } finally {
    await stopAll(started)
    keepOrRemove(dir)
  }
}

/**
 * `node bench/gateway.mjs pairs`: issue 28's target as a ratio, natively: for each path of BENCH_PATHS
 * (default `miss,hit,forward`), `gw` (the CLI's defaults: access log on stdout, metrics, live stats, admin
 * listener) against `bare` (the same plugins, same options, on a bare Fastify), BENCH_PAIRS (default 4)
 * pairs of BENCH_PAIR_SECONDS (default 3) wrk runs at BENCH_CONNECTIONS, alternating which goes first,
 * each server's CPU time from /proc over the requests it answered. BENCH_PAIR_NAMES=gw-nolog,bare compares
 * the gateway with its access log off instead; BENCH_PAIR_WARMUP (default 5) seconds of load before each
 * server's first run. Target: at least 0.95x by req/s and by CPU per request.
 * For a quiet machine (a few minutes).
 */
async function gatewayPairs() {
  const { hasCommand, measure, measureWrk, pairSummary } = await import('./lib/harness.mjs')
  const [a, b] = (process.env.BENCH_PAIR_NAMES ?? 'gw,bare').split(',')
  const pairs = Number(process.env.BENCH_PAIRS ?? 4)
  const seconds = Number(process.env.BENCH_PAIR_SECONDS ?? 3)
  const wrk = hasCommand('/usr/bin/wrk') || hasCommand('wrk')
  const run = wrk ? measureWrk : measure
  const summaries = []
  for (const path of (process.env.BENCH_PATHS ?? 'miss,hit,forward').split(',')) {
    const started = []
    try {
      const origin = await startProcess(
        ORIGIN,
        [],
        path === 'hit' ? { BODY_SIZE: '100', CACHE_CONTROL: 'max-age=600' } : { BODY_SIZE: '100' },
      )
      started.push(origin)
      const bareOptions = await bareOptionsFor(path, origin.url)
      const servers = {}
      for (const name of [a, b]) {
        servers[name] = await startProcess(SELF, ['path-role', name, path, origin.url, bareOptions])
        started.push(servers[name])
      }
      // The forward path: absolute-form GETs of the origin through the proxy.
      const load = (name) =>
        path === 'forward'
          ? { url: `${origin.url}/`, proxy: servers[name].url }
          : { url: `${servers[name].url}/` }
      const ratios = []
      const cpuRatios = []
      for (let i = 0; i < pairs; i++) {
        const r = {}
        for (const name of i % 2 === 0 ? [a, b] : [b, a])
          r[name] = await run({
            name,
            ...load(name),
            connections: CONNECTIONS,
            duration: seconds,
            // The gateway has more to compile than the bare plugins: its first run is warmed up longer.
            warmup: i === 0 ? Number(process.env.BENCH_PAIR_WARMUP ?? 5) : 0,
            server: servers[name],
          })
        ratios.push(r[a].rps / r[b].rps)
        cpuRatios.push(r[b].cpuMsPerReq / r[a].cpuMsPerReq)
        console.log(
          `${path} pair ${i + 1}: ${a} ${Math.round(r[a].rps)} req/s ${r[a].cpuMsPerReq.toFixed(4)} CPU ms/req, ${b} ${Math.round(r[b].rps)} req/s ${r[b].cpuMsPerReq.toFixed(4)} CPU ms/req`,
        )
      }
      summaries.push(`${path}: ${a} / ${b} ${pairSummary(ratios, cpuRatios)}`)
    } finally {
      await stopAll(started)
    }
  }
  console.log(
    `\n${wrk ? 'wrk' : 'autocannon'}, ${CONNECTIONS} connections (CPU ratio: ${b}'s CPU per request over ${a}'s, so above 1 is ${a} cheaper):`,
  )
  for (const line of summaries) console.log(`  ${line}`)
}

let missSeq = 0
/** A load for instructionsPerRequest: `count` GETs of URLs never asked before, 8 at a time, each checked. */
function uniqueMisses(port, count) {
  return uniqueMissesOn(port, count, 8)
}

async function uniqueMissesOn(port, count, connections) {
  const { Pool } = await import('undici')
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections })
  let left = count
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (left > 0) {
          left--
          const r = await pool.request({ path: `/miss/${missSeq++}`, method: 'GET' })
          await r.body.dump()
          if (r.statusCode !== 200) throw new Error(`a miss answered ${r.statusCode}`)
        }
      }),
    )
  } finally {
    await pool.close()
  }
}

/** `node bench/gateway.mjs instructions`: issue 28's comparison in instructions per request. */
async function instructions() {
  const { countLine, instructionsPerRequest, requireCallgrind } = await import('./lib/instructions.mjs')
  requireCallgrind()
  const started = []
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-gw-bench-cg-'))
  const paths = (process.env.BENCH_PATHS ?? 'miss,hit,forward').split(',')
  const names = (process.env.BENCH_NAMES ?? 'bare,gw,gw-nolog').split(',')
  try {
    for (const path of paths) {
      const origin = await startProcess(
        ORIGIN,
        [],
        path === 'hit' ? { BODY_SIZE: '100', CACHE_CONTROL: 'max-age=600' } : { BODY_SIZE: '100' },
      )
      started.push(origin)
      const results = {}
      for (const name of names) {
        const r = await instructionsPerRequest({
          dir,
          tag: `${path}-${name}`,
          script: SELF,
          args: ['path-role', name, path, origin.url, await bareOptionsFor(path, origin.url)],
          path: path === 'forward' ? `${origin.url}/` : '/',
          // Each miss its own URL: one URL's concurrent misses would be collapsed into one upstream
          // request, and under valgrind the waiters outlast the collapse's wait (504).
          ...(path === 'miss' ? { load: uniqueMisses } : {}),
        })
        results[name] = r.perRequest
        console.log(countLine(`${path.padEnd(8)} ${name.padEnd(9)}`, r))
      }
      if (results.bare !== undefined)
        for (const name of names.filter((n) => n !== 'bare'))
          console.log(`  ${path} ${name} / bare: ${(results[name] / results.bare).toFixed(3)}`)
      if (results.gw !== undefined && results['gw-nolog'] !== undefined)
        console.log(`  ${path} access log on / off: ${(results.gw / results['gw-nolog']).toFixed(3)}`)
    }
  } finally {
    await stopAll(started)
    keepOrRemove(dir)
  }
}

/** RSS of `pid` in MB (VmRSS). */
function rssMB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
}

/** `n` keep-alive connections to `port`, each after one answered GET; resolves with their sockets. */
async function idleConnections(port, n) {
  const net = await import('node:net')
  const sockets = []
  const open = (i) =>
    new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % 40)}` })
      s.setTimeout(60_000, () => reject(new Error('idle connection: no answer in 60 s')))
      s.once('error', reject)
      s.once('connect', () => s.write(`GET /idle/${i} HTTP/1.1\r\nHost: x\r\n\r\n`))
      s.once('data', () => {
        s.setTimeout(0)
        resolve(s)
      })
    })
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, j) => open(i + j)))
    sockets.push(...batch)
  }
  return sockets
}

/** The role's memory after two full collections (its SIGUSR2 probe): process.memoryUsage() in bytes. */
function memoryOf(p) {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => done(new Error('no memory line within 30 s')), 30_000)
    const onData = (chunk) => {
      buffered += chunk
      for (const line of buffered.split('\n')) {
        if (!line.startsWith('{"memory"')) continue
        try {
          return done(null, JSON.parse(line).memory)
        } catch {}
      }
    }
    function done(err, m) {
      clearTimeout(timer)
      p.child.stdout.off('data', onData)
      if (err) reject(err)
      else resolve(m)
    }
    p.child.stdout.setEncoding('utf8')
    p.child.stdout.on('data', onData)
    process.kill(p.pid, 'SIGUSR2')
  })
}

const mb = (bytes) => (bytes / 1048576).toFixed(1)
const breakdown = (m) =>
  `heap ${mb(m.heapUsed)} used of ${mb(m.heapTotal)}, external ${mb(m.external)} MB, rss ${mb(m.rss)} MB`

/**
 * `node bench/gateway.mjs memory`: issue 28's RSS figures, the gateway beside the bare plugins. Each role
 * runs with --expose-gc: the RSS figures are read from /proc as they are (no collection forced), and
 * then the role collects (SIGUSR2) and reports its heap, for where the memory is. The per-connection
 * figures compare two states after a forced collection, so that they measure what the connections
 * hold and not when the last collection happened to run.
 */
async function memory() {
  const started = []
  try {
    const origin = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(origin)
    for (const name of (process.env.BENCH_NAMES ?? 'bare,gw').split(',')) {
      const p = await startProcess(
        SELF,
        ['path-role', name, 'miss', origin.url, await bareOptionsFor('miss', origin.url)],
        {},
        { nodeArgs: ['--expose-gc'] },
      )
      started.push(p)
      const idle = rssMB(p.pid)
      const idleGc = await memoryOf(p)
      await uniqueMissesOn(p.port, 20_000, 64)
      const loaded = rssMB(p.pid)
      const loadedGc = await memoryOf(p)
      console.log(
        `${name.padEnd(4)} RSS: ${idle.toFixed(1)} MB at start, ${loaded.toFixed(1)} MB after 20,000 misses on 64 connections`,
      )
      console.log(`${name.padEnd(4)}   collected at start: ${breakdown(idleGc)}`)
      console.log(`${name.padEnd(4)}   collected after the misses: ${breakdown(loadedGc)}`)
      for (const n of [1000, 10_000]) {
        const before = await memoryOf(p)
        const sockets = await idleConnections(p.port, n)
        await new Promise((r) => setTimeout(r, 2000))
        const after = await memoryOf(p)
        const each = (k) => ((after[k] - before[k]) / n / 1024).toFixed(2)
        console.log(
          `${name.padEnd(4)} ${String(n).padStart(6)} idle keep-alive connections: rss ${mb(before.rss)} -> ${mb(after.rss)} MB, ${each('rss')} KB each (heap ${each('heapUsed')} KB, external ${each('external')} KB each)`,
        )
        for (const s of sockets) s.destroy()
        await new Promise((r) => setTimeout(r, 2000))
      }
      await stopAll([p])
      started.pop()
    }
  } finally {
    await stopAll(started)
  }
}

// BENCH_CG_KEEP=1 keeps the callgrind dumps (for callgrind_annotate) and says where they are.
function keepOrRemove(dir) {
  if (process.env.BENCH_CG_KEEP === '1') console.log(`callgrind dumps kept in ${dir}`)
  else rmSync(dir, { recursive: true, force: true })
}

const median = (list) => {
  const s = [...list].sort((x, y) => x - y)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/**
 * `node bench/gateway.mjs accesslog`: issue 28 item 2, what the access log (on stdout, the default)
 * costs a request: `gw` (log.access true) against `gw-nolog`, both the CLI's startOperated.
 *   1. Instructions per request under callgrind for each path of BENCH_PATHS (default `miss,hit`), with
 *      what the gateway does per second whatever the traffic (live statistics, metrics sampling,
 *      connection checks) measured in an idle instrumented window (BENCH_CG_IDLE seconds, default 10)
 *      and subtracted from each window by its wall time: under valgrind the gateway answers tens of
 *      requests a second, and that work would otherwise be spread over them as if it were theirs.
 *      BENCH_CG_QUIET=1 stops that work in both servers instead (on a loaded machine the subtraction
 *      swings by more than the access log costs; BENCH_CG_IDLE=0 then skips the idle window).
 *   2. CPU ms per request, natively: BENCH_PAIRS (default 8) pairs of BENCH_PAIR_SECONDS (default 3)
 *      runs of 100 B cache hits at BENCH_CONNECTIONS, log on and off alternating which goes first, each
 *      server's CPU time from /proc over the requests it answered (wrk when installed, else autocannon).
 *      For a quiet machine; BENCH_ACCESSLOG_PARTS=instructions or cpu runs one part.
 */
async function accessLog() {
  const parts = (process.env.BENCH_ACCESSLOG_PARTS ?? 'instructions,cpu').split(',')
  const started = []
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-gw-bench-log-'))
  try {
    if (parts.includes('instructions')) {
      const { countLine, instructionsPerRequest, requireCallgrind } = await import('./lib/instructions.mjs')
      requireCallgrind()
      const idleSeconds = Number(process.env.BENCH_CG_IDLE ?? 10)
      for (const path of (process.env.BENCH_PATHS ?? 'miss,hit').split(',')) {
        const origin = await startProcess(
          ORIGIN,
          [],
          path === 'hit' ? { BODY_SIZE: '100', CACHE_CONTROL: 'max-age=600' } : { BODY_SIZE: '100' },
        )
        started.push(origin)
        const per = {}
        for (const name of ['gw-nolog', 'gw']) {
          const r = await instructionsPerRequest({
            dir,
            tag: `log-${path}-${name}`,
            script: SELF,
            args: ['path-role', name, path, origin.url, '{}'],
            path: '/',
            idleSeconds,
            ...(path === 'miss' ? { load: uniqueMisses } : {}),
          })
          per[name] = r.perRequest
          const rps = (Number(process.env.BENCH_CG_WINDOW ?? 3000) / median(r.windowSeconds)).toFixed(0)
          console.log(
            `${countLine(`${path.padEnd(5)} ${name.padEnd(9)}`, r)}; idle ${Math.round(r.idlePerSecond).toLocaleString('en-US')} instructions/s subtracted at ${rps} req/s under valgrind`,
          )
        }
        console.log(
          `  ${path}: access log on / off ${(per.gw / per['gw-nolog']).toFixed(3)} (+${Math.round(per.gw - per['gw-nolog']).toLocaleString('en-US')} instructions per request)`,
        )
      }
    }
    if (parts.includes('cpu')) {
      const { hasCommand, measure, measureWrk, pairSummary } = await import('./lib/harness.mjs')
      const origin = await startProcess(ORIGIN, [], { BODY_SIZE: '100', CACHE_CONTROL: 'max-age=600' })
      started.push(origin)
      const servers = {}
      for (const name of ['gw', 'gw-nolog']) {
        servers[name] = await startProcess(SELF, ['path-role', name, 'hit', origin.url, '{}'])
        started.push(servers[name])
      }
      const wrk = hasCommand('/usr/bin/wrk') || hasCommand('wrk')
      const run = wrk ? measureWrk : measure
      const pairs = Number(process.env.BENCH_PAIRS ?? 8)
      const seconds = Number(process.env.BENCH_PAIR_SECONDS ?? 3)
      const ratios = []
      const cpuRatios = []
      for (let i = 0; i < pairs; i++) {
        const order = i % 2 === 0 ? ['gw', 'gw-nolog'] : ['gw-nolog', 'gw']
        const r = {}
        for (const name of order)
          r[name] = await run({
            name,
            url: `${servers[name].url}/`,
            connections: CONNECTIONS,
            duration: seconds,
            warmup: i === 0 ? 2 : 0,
            server: servers[name],
          })
        ratios.push(r.gw.rps / r['gw-nolog'].rps)
        cpuRatios.push(r.gw.cpuMsPerReq / r['gw-nolog'].cpuMsPerReq)
        console.log(
          `pair ${i + 1}: log on ${Math.round(r.gw.rps)} req/s ${r.gw.cpuMsPerReq.toFixed(4)} CPU ms/req, off ${Math.round(r['gw-nolog'].rps)} req/s ${r['gw-nolog'].cpuMsPerReq.toFixed(4)} CPU ms/req`,
        )
      }
      console.log(
        `100 B hits, access log on / off (${wrk ? 'wrk' : 'autocannon'}): ${pairSummary(ratios, cpuRatios)}`,
      )
    }
  } finally {
    await stopAll(started)
    keepOrRemove(dir)
  }
}

/**
 * `node bench/gateway.mjs accessline`: instructions per access line, outside a server (callgrind, so
 * valid on a loaded machine): bench/lib/access-line-cost.mjs run at BENCH_LINES_LOW (default 2,000) and
 * BENCH_LINES_HIGH (12,000) lines for each variant (`old`: pino and sonic-boom as the gateway had them,
 * `new`: access-line.ts and log-destination.ts, `loop`: neither), the difference per line printed.
 */
async function accessLineCost() {
  const { spawnSync } = await import('node:child_process')
  const script = fileURLToPath(new URL('./lib/access-line-cost.mjs', import.meta.url))
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-line-cg-'))
  const low = Number(process.env.BENCH_LINES_LOW ?? 2000)
  const high = Number(process.env.BENCH_LINES_HIGH ?? 12000)
  const total = (variant, n) => {
    const out = join(dir, `cg.${variant}.${n}`)
    const r = spawnSync(
      '/usr/bin/valgrind',
      [
        '--tool=callgrind',
        `--callgrind-out-file=${out}`,
        '--smc-check=all-non-file',
        process.execPath,
        '--no-concurrent-recompilation',
        script,
        variant,
        String(n),
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    )
    if (r.status !== 0) throw new Error(`${variant} ${n}: exit ${r.status}`)
    return Number(/^totals:\s+(\d+)/m.exec(readFileSync(out, 'utf8'))[1])
  }
  try {
    const per = {}
    for (const variant of (process.env.BENCH_LINE_VARIANTS ?? 'new,old,loop').split(',')) {
      per[variant] = (total(variant, high) - total(variant, low)) / (high - low)
      console.log(
        `${variant.padEnd(5)} ${Math.round(per[variant]).toLocaleString('en-US')} instructions per line`,
      )
    }
    if (per.loop !== undefined)
      for (const v of ['old', 'new'].filter((x) => per[x] !== undefined))
        console.log(`${v}: ${Math.round(per[v] - per.loop).toLocaleString('en-US')} per line beyond the loop`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The gateway's CLI (apps/gateway/dist/src/cli.js) with `config` on `port`: resolves once it accepts and,
 * with `workers` over 1, every worker has said it is ready. CPU and RSS are the process tree's (the
 * primary and its workers). Its stdout (the log) is read and dropped, as a log collector would read it.
 */
async function startGatewayCli(dir, name, config, port, workers) {
  const { spawn } = await import('node:child_process')
  const { track, treeCpuSecondsOf } = await import('./lib/harness.mjs')
  const { waitForPort } = await import('./lib/external.mjs')
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify(config))
  const cli = fileURLToPath(new URL('../apps/gateway/dist/src/cli.js', import.meta.url))
  const child = spawn(process.execPath, [cli, '--config', file], { stdio: ['ignore', 'pipe', 'inherit'] })
  const stop = track(child)
  let ready = 0
  let text = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    if (ready >= workers) return
    text += chunk
    const lines = text.split('\n')
    text = lines.pop()
    for (const line of lines) if (line.includes('"event":"worker-ready"')) ready++
  })
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  try {
    await waitForPort(port, 120_000, () => exited)
    const deadline = Date.now() + 120_000
    while (workers > 1 && ready < workers) {
      if (exited || Date.now() > deadline) throw new Error(`${name}: ${ready} of ${workers} workers ready`)
      await new Promise((r) => setTimeout(r, 100))
    }
  } catch (err) {
    await stop()
    throw err
  }
  const pid = child.pid
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    pid,
    cpuSeconds: () => treeCpuSecondsOf(pid),
    stop,
  }
}

/**
 * `node bench/gateway.mjs workers`: issue 28 item 4, how `workers: 2` scales on this machine beside nginx
 * with two worker processes: the gateway's CLI with `workers: 1` and `workers: 2`, nginx with one worker
 * (no master) and with a master and two workers, each a reverse proxy to the same 100 B origin (no cache:
 * every request goes upstream over keep-alive connections). BENCH_ROUNDS (default 3) interleaved rounds
 * of BENCH_DURATION seconds (default 5) at BENCH_CONNECTIONS (default 64) per server, wrk when installed
 * (BENCH_WRK_THREADS, default 2: one wrk thread saturates before two proxy processes do) else
 * autocannon; each row the median round, its CPU ms per request summed over the server's process tree.
 * Unpinned: two workers need both cores, which wrk and the origin share with them. The gateway runs
 * with `log.access: false`, as nginx here has `access_log off` (BENCH_GW_ACCESS=1: the gateway's
 * default, access lines on stdout, read and dropped by this process).
 */
async function workersScaling() {
  const { hasCommand, measure, measureWrk, printTable } = await import('./lib/harness.mjs')
  const { BIN, freePort, startNginx } = await import('./lib/external.mjs')
  const started = []
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-gw-bench-workers-'))
  try {
    const origin = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(origin)
    const access = process.env.BENCH_GW_ACCESS === '1'
    const servers = []
    for (const workers of [1, 2]) {
      const port = await freePort()
      const config = {
        workers,
        reverse: { listen: `127.0.0.1:${port}`, routes: [{ name: 'r', upstreams: [origin.url] }] },
        admin: { listen: '127.0.0.1:0' },
        log: { access },
      }
      const s = await startGatewayCli(dir, `gateway-w${workers}`, config, port, workers)
      started.push(s)
      servers.push(s)
    }
    if (hasCommand(BIN.nginx)) {
      for (const workers of [1, 2]) {
        const sub = join(dir, `nginx-w${workers}`)
        mkdirSync(sub)
        const n = await startNginx(sub, origin.port, { workers })
        const { treeCpuSecondsOf } = await import('./lib/harness.mjs')
        const s = { ...n, name: `nginx-w${workers}`, cpuSeconds: () => treeCpuSecondsOf(n.pid) }
        started.push(s)
        servers.push(s)
      }
    } else console.log('nginx is not installed: gateway rows only')
    const wrk = hasCommand('/usr/bin/wrk') || hasCommand('wrk')
    const threads = Number(process.env.BENCH_WRK_THREADS ?? 2)
    const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
    const duration = Number(process.env.BENCH_DURATION ?? 5)
    const results = new Map(servers.map((s) => [s.name, []]))
    for (let round = 0; round < rounds; round++) {
      for (const s of servers) {
        const options = { name: s.name, url: `${s.url}/`, connections: CONNECTIONS, duration, server: s }
        const r = wrk ? await measureWrk({ ...options, threads }) : await measure(options)
        results.get(s.name).push(r)
        console.log(
          `round ${round + 1} ${s.name.padEnd(12)} ${Math.round(r.rps)} req/s, ${r.cpuMsPerReq?.toFixed(4)} CPU ms/req`,
        )
      }
    }
    const rows = [...results.values()].map((list) => {
      const sorted = [...list].sort((a, b) => a.rps - b.rps)
      return sorted[sorted.length >> 1]
    })
    console.log(
      `# reverse proxy, GET 100 B, ${CONNECTIONS} connections, ${duration} s, median of ${rounds} rounds`,
    )
    printTable(wrk ? `wrk (${threads} threads)` : 'autocannon', rows, 'gateway-w1')
    const by = new Map(rows.map((r) => [r.name, r]))
    for (const base of ['gateway', 'nginx']) {
      const one = by.get(`${base}-w1`)
      const two = by.get(`${base}-w2`)
      if (one && two) console.log(`${base}: two workers / one ${(two.rps / one.rps).toFixed(2)}x req/s`)
    }
  } finally {
    await stopAll(started)
    keepOrRemove(dir)
  }
}

if (process.argv[2] === 'role') await role(process.argv[3], process.argv[4], process.argv[5])
else if (process.argv[2] === 'path-role')
  await pathRole(process.argv[3], process.argv[4], process.argv[5], process.argv[6])
else if (process.argv[2] === 'instructions') await instructions()
else if (process.argv[2] === 'memory') await memory()
else if (process.argv[2] === 'accesslog') await accessLog()
else if (process.argv[2] === 'pairs') await gatewayPairs()
else if (process.argv[2] === 'accessline') await accessLineCost()
else if (process.argv[2] === 'workers') await workersScaling()
else await main()
