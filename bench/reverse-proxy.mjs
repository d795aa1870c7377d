#!/usr/bin/env node
// Reverse-proxy benchmark, side by side in one run, every server a child process on loopback:
//   direct            the origin itself (the ceiling)
//   http-proxy        raw @fastify/http-proxy with defaults (the baseline)
//   ours-1            @proxykit/reverse-proxy, one upstream
//   ours-1+ac+cache   the same with @proxykit/access-control and @proxykit/cache registered (a miss path:
//                     the origin's answer has no freshness, so every request goes upstream)
//   ours-2+health     balancing over two origins with active health checks every second
//   nginx, haproxy    one worker / one thread each, keep-alive to the upstream, when installed
//
//   node bench/reverse-proxy.mjs      (BENCH_DURATION seconds per measurement, default 5; BENCH_CONNECTIONS 64;
//                                      BENCH_ROUNDS interleaved rounds, default 3, the median shown)
//   node bench/reverse-proxy.mjs instructions   instructions per proxied GET under callgrind, each proxy
//   node bench/reverse-proxy.mjs cpu  (CPU µs per request of each Node proxy: steadier on a busy machine)
//   node bench/reverse-proxy.mjs pairs  the two target ratios from back-to-back pairs of short wrk runs
//                                      (BENCH_PAIRS, default 12, of BENCH_PAIR_SECONDS, default 3), both
//                                      servers restarted every BENCH_PAIRS_PER_PROCESS pairs (default 6)
//   node bench/reverse-proxy.mjs citizenship  issue 21 in instructions per request: ours against
//                                      @fastify/http-proxy bare, with @fastify/cors + helmet, and with
//                                      @fastify/compress on a 16 KiB text body, each beside the same
//                                      plugins on a plain Fastify route (the plugins' own cost)
//   node bench/reverse-proxy.mjs rss   each server's RSS through one unbroken wrk run at 64 connections
//                                      (BENCH_RSS_SECONDS, default 90), one server at a time, beside a
//                                      plain Fastify route sending the same 100 bytes (no proxy: the floor),
//                                      each with its memory at peak RSS split into V8 spaces and external
//
// Prints req/s, p50/p99 and the ratio against http-proxy for autocannon and wrk, then each proxy's peak
// RSS under load. Stops everything it started (by PID) before exiting.
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { BIN, makeTempDir, startHaproxy, startNginx } from './lib/external.mjs'
import {
  cpuSecondsOf,
  hasCommand,
  measureTarget,
  measureWrk,
  pairSummary,
  printTable,
  samplePeakRss,
  sampleRssTimeline,
  startProcess,
  stopAll,
} from './lib/harness.mjs'
import { pinLoadSide, pinningNote, pinServer } from './lib/pin.mjs'
import { serve } from './lib/role.mjs'

const SELF = fileURLToPath(import.meta.url)
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

// ---- child roles ---------------------------------------------------------------------------------------
async function role(name, upstreams) {
  if (process.env.BENCH_MEM_BREAKDOWN === '1') await memoryBreakdown()
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false })
  if (name.startsWith('plain')) {
    // No proxy at all: a Fastify route sending the origin's 100 bytes from memory (the floor of any
    // Fastify process under this load, for the rss mode; with `+cors+helmet` or `+compress`, what those
    // plugins cost on a route of the app's own, beside what they cost around the proxy).
    await appPlugins(app, name)
    // `plain16k`: the 16 KiB text body of the citizenship mode's (c), as lib/origin.mjs sends it.
    const text = name.startsWith('plain16k')
    const body = text
      ? Buffer.alloc(
          16 * 1024,
          'The quick brown fox jumps over the lazy dog; proxies relay what origins send. ',
        )
      : Buffer.alloc(100, 'x')
    const type = text ? 'text/plain; charset=utf-8' : 'application/octet-stream'
    app.get('/', (_request, reply) => {
      reply.header('content-type', type).send(body)
    })
  } else if (name.startsWith('http-proxy')) {
    await appPlugins(app, name)
    const { default: httpProxy } = await import('@fastify/http-proxy')
    const httpMethods = name.includes('+cors') ? ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT'] : undefined
    await app.register(httpProxy, { upstream: upstreams[0], ...(httpMethods ? { httpMethods } : {}) })
  } else {
    await appPlugins(app, name)
    const { default: reverseProxy } = await import('@proxykit/reverse-proxy')
    if (name === 'ours-1+ac+cache') {
      const { default: accessControl } = await import('@proxykit/access-control')
      const { default: cache } = await import('@proxykit/cache')
      await app.register(accessControl, {
        rules: [{ name: 'loopback', action: 'allow', clients: ['127.0.0.0/8'] }],
      })
      await app.register(cache)
    }
    const healthCheck = name === 'ours-2+health' ? { path: '/', intervalMs: 1000 } : false
    // Generous timeouts: under callgrind on a busy machine, a connect can take longer than the default 5 s.
    const timeouts = { connect: 60_000, headers: 120_000 }
    await app.register(reverseProxy, { routes: [{ upstreams, healthCheck, timeouts }] })
  }
  await serve(app)
}

/**
 * BENCH_MEM_BREAKDOWN=1 (the rss mode sets it): the role samples its own memory every 100 ms and, when
 * stopped, prints on stderr the sample of its highest RSS, split into V8's heap spaces (the young
 * generation's size is what a faster allocation rate grows), external memory and array buffers: what the
 * RSS at 64 connections is made of.
 */
async function memoryBreakdown() {
  const v8 = await import('node:v8')
  let peak = null
  const sample = () => {
    const m = process.memoryUsage()
    if (peak !== null && m.rss <= peak.m.rss) return
    const spaces = {}
    for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = s.space_size
    peak = { m, spaces }
  }
  setInterval(sample, 100).unref()
  process.on('exit', () => {
    if (peak === null) return
    const mb = (n) => (n / 1048576).toFixed(1)
    const { m, spaces } = peak
    const heap = Object.entries(spaces)
      .filter(([, size]) => size >= 1048576)
      .map(([space, size]) => `${space} ${mb(size)}`)
      .join(', ')
    process.stderr.write(
      `  memory at peak RSS ${mb(m.rss)} MB: V8 heap ${mb(m.heapTotal)} (used ${mb(m.heapUsed)}; ${heap}), ` +
        `external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)}), the rest (code, Node, malloc) ` +
        `${mb(m.rss - m.heapTotal - m.external)}\n`,
    )
  })
}

/**
 * The app around the proxy in the citizenship mode (issue 21): `+cors+helmet` registers @fastify/cors and
 * @fastify/helmet (headers from onRequest hooks only), `+compress` @fastify/compress (an onSend hook, so
 * our proxy answers through reply.send).
 */
async function appPlugins(app, name) {
  if (name.includes('+cors+helmet')) {
    const { default: cors } = await import('@fastify/cors')
    const { default: helmet } = await import('@fastify/helmet')
    // Its preflight route (OPTIONS *, registered even with preflight: false) takes OPTIONS at prefix '/':
    // ours leaves OPTIONS to it when cors comes first, @fastify/http-proxy is given httpMethods without it.
    await app.register(cors, { origin: true })
    await app.register(helmet)
  }
  if (name.includes('+compress')) {
    const { default: compress } = await import('@fastify/compress')
    await app.register(compress, { global: true, encodings: ['gzip'] })
  }
}

// ---- the run -------------------------------------------------------------------------------------------
async function main() {
  const started = []
  const dir = makeTempDir('proxykit-rp-bench-')
  pinLoadSide()
  try {
    const o1 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    const o2 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(o1, o2)
    const targets = [{ name: 'direct', url: o1.url, pid: null }]
    for (const name of ['http-proxy', 'ours-1', 'ours-1+ac+cache', 'ours-2+health']) {
      const ups = name === 'ours-2+health' ? [o1.url, o2.url] : [o1.url]
      const p = await startProcess(SELF, ['role', name, ...ups])
      started.push(p)
      pinServer(p.pid)
      targets.push({ name, url: p.url, pid: p.pid })
    }
    if (hasCommand(BIN.nginx)) {
      const p = await startNginx(dir, o1.port)
      started.push(p)
      pinServer(p.pid)
      targets.push({ name: 'nginx', url: p.url, pid: p.pid })
    }
    if (hasCommand(BIN.haproxy)) {
      const p = await startHaproxy(dir, o1.port)
      started.push(p)
      pinServer(p.pid)
      targets.push({ name: 'haproxy', url: p.url, pid: p.pid })
    }
    // Every target is measured in ROUNDS interleaved rounds (A, B, C, then A, B, C again) and each row
    // is its median round: on a shared VM one target's rounds differ by 20-40%, and a slow spell would
    // otherwise land on whichever target happened to run in it.
    const runs = targets.map(() => [])
    for (let round = 0; round < ROUNDS; round++)
      for (let i = 0; i < targets.length; i++)
        runs[i].push(await measureTarget(targets[i], { duration: DURATION, connections: CONNECTIONS }))
    const median = (list, key) => {
      const sorted = list.filter(Boolean).sort((a, b) => a[key] - b[key])
      return sorted.length === 0 ? null : sorted[(sorted.length - 1) >> 1]
    }
    const acOf = (m) => m.ac
    const wrkOf = (m) => m.wrk
    const cpuOf = (m) => ({ v: m.cpuUsPerReq })
    const ac = []
    const wrk = []
    const rss = []
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]
      const rounds = runs[i]
      ac.push(median(rounds.map(acOf), 'rps'))
      wrk.push(median(rounds.map(wrkOf), 'rps'))
      if (t.pid !== null)
        rss.push({
          name: t.name,
          peak: Math.max(...rounds.map((m) => m.peakRssMB)),
          cpuUs: median(rounds.map(cpuOf), 'v').v,
          rounds: rounds.map((m) => Math.round(m.ac.rps)),
        })
    }
    console.log(
      `# reverse proxy, GET 100 B, ${CONNECTIONS} connections, ${DURATION} s per run, median of ${ROUNDS} ` +
        `interleaved rounds; ${pinningNote()}`,
    )
    printTable('autocannon', ac, 'http-proxy')
    if (wrk.some(Boolean)) printTable('wrk (1 thread)', wrk, 'http-proxy')
    console.log(
      '\nper proxy process, during the autocannon runs: peak RSS (MB), median CPU per request (µs), req/s by round',
    )
    for (const r of rss)
      console.log(
        `  ${r.name.padEnd(18)} ${r.peak.toFixed(1).padStart(7)} MB ${r.cpuUs.toFixed(0).padStart(6)} µs/req  ` +
          `(rounds: ${r.rounds.join(', ')})`,
      )
    const by = (list, n) => list.find((r) => r?.name === n)?.rps ?? Number.NaN
    for (const [label, list] of [
      ['autocannon', ac],
      ['wrk', wrk],
    ]) {
      if (!list.some(Boolean)) continue
      const base = by(list, 'http-proxy')
      console.log(
        `${label}: ours-1+ac+cache / http-proxy = ${(by(list, 'ours-1+ac+cache') / base).toFixed(2)}x (target >= 1.8x); ` +
          `ours-2+health / ours-1 = ${(by(list, 'ours-2+health') / by(list, 'ours-1')).toFixed(3)} (target >= 0.95)`,
      )
    }
  } finally {
    await stopAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * `node bench/reverse-proxy.mjs cpu`: CPU time each proxy process spends per request over a fixed 20,000
 * requests (64 connections), the proxies measured in turn and the round repeated. On a shared, loaded
 * machine this moves far less than req/s does; on an idle core, req/s is about 1e6 / (µs per request).
 */
async function cpuOnly() {
  const { default: autocannon } = await import('autocannon')
  const started = []
  try {
    const o1 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    const o2 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(o1, o2)
    const names = ['http-proxy', 'ours-1', 'ours-1+ac+cache', 'ours-2+health']
    const procs = []
    for (const name of names) {
      const p = await startProcess(SELF, [
        'role',
        name,
        ...(name === 'ours-2+health' ? [o1.url, o2.url] : [o1.url]),
      ])
      started.push(p)
      procs.push({ name, p, samples: [] })
      await autocannon({ url: p.url, connections: 16, amount: 3000 })
    }
    for (let round = 0; round < 3; round++) {
      for (const x of procs) {
        const c0 = cpuSecondsOf(x.p.pid)
        const r = await autocannon({ url: x.p.url, connections: CONNECTIONS, amount: 20_000 })
        x.samples.push(((cpuSecondsOf(x.p.pid) - c0) * 1e6) / r.requests.total)
      }
    }
    const base = Math.min(...procs[0].samples)
    console.log(`CPU per request, best of 3 rounds of 20,000 requests at ${CONNECTIONS} connections`)
    for (const x of procs) {
      const best = Math.min(...x.samples)
      console.log(
        `  ${x.name.padEnd(16)} ${best.toFixed(0).padStart(5)} µs/req (rounds: ${x.samples.map((v) => v.toFixed(0)).join(', ')}); ` +
          `http-proxy costs ${(base / best).toFixed(2)}x this`,
      )
    }
  } finally {
    await stopAll(started)
  }
}

/**
 * `node bench/reverse-proxy.mjs instructions`: user-space instructions per proxied GET under callgrind
 * (lib/instructions.mjs), each proxy in turn: the steady figure where req/s on a shared machine is not.
 */
async function instructions() {
  const { countLine, instructionsPerRequest, requireCallgrind } = await import('./lib/instructions.mjs')
  requireCallgrind()
  const started = []
  const dir = makeTempDir('proxykit-rp-bench-cg-')
  try {
    const o1 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    const o2 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(o1, o2)
    const results = []
    for (const name of ['http-proxy', 'ours-1', 'ours-1+ac+cache', 'ours-2+health']) {
      const r = await instructionsPerRequest({
        dir,
        tag: name.replaceAll('+', '_'),
        script: SELF,
        args: ['role', name, ...(name === 'ours-2+health' ? [o1.url, o2.url] : [o1.url])],
        path: '/',
      })
      results.push({ name, ...r })
      console.log(countLine(name.padEnd(16), r))
    }
    const base = results[0].perRequest
    for (const r of results.slice(1))
      console.log(`  http-proxy / ${r.name}: ${(base / r.perRequest).toFixed(2)}x`)
  } finally {
    await stopAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * `node bench/reverse-proxy.mjs pairs`: each of the issue's two ratios from BENCH_PAIRS pairs of short wrk
 * runs (BENCH_PAIR_SECONDS each, after a second of warm-up), the two targets of a pair run back to back in
 * alternating order; prints every pair's ratio and their median. On this VM a slow spell lasts longer than
 * a pair, so it moves both runs of a pair alike, where in the interleaved table it lands on whichever rows
 * ran in it (one target's rounds there differ by up to 2.5x).
 */
/** Two origins answering 100 bytes, added to `started` (stopped with everything else). */
async function startOrigins(started) {
  const o1 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
  started.push(o1)
  const o2 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
  started.push(o2)
  return [o1, o2]
}

/** A role process (pinned to the measured core), balancing over both origins for ours-2+health. */
async function startRole(name, [o1, o2], started, env = {}) {
  const p = await startProcess(
    SELF,
    ['role', name, ...(name === 'ours-2+health' ? [o1.url, o2.url] : [o1.url])],
    env,
  )
  started.push(p)
  pinServer(p.pid)
  return p
}

async function pairs() {
  const count = Number(process.env.BENCH_PAIRS ?? 12)
  const seconds = Number(process.env.BENCH_PAIR_SECONDS ?? 3)
  // Two processes of one server differ by up to 10-20% in CPU per request on this VM (layout, JIT), so
  // both servers of a comparison are started afresh every `perProcess` pairs: the median is then over
  // several processes of each, not over one process's luck.
  const perProcess = Number(process.env.BENCH_PAIRS_PER_PROCESS ?? 6)
  if (!hasCommand('/usr/bin/wrk') && !hasCommand('wrk')) throw new Error('pairs needs wrk')
  const started = []
  pinLoadSide()
  try {
    const origins = await startOrigins(started)
    const live = new Map()
    const peaks = new Map()
    const run = (name) => {
      const p = live.get(name).p
      return measureWrk({
        name,
        url: `${p.url}/`,
        duration: seconds,
        connections: CONNECTIONS,
        warmup: 1,
        server: p,
      })
    }
    // (Re)starts `name`'s process, pinned, and warms it up (its JIT settled) before it is measured.
    const fresh = async (name) => {
      const old = live.get(name)
      if (old !== undefined) {
        peaks.set(name, Math.max(peaks.get(name) ?? 0, old.stopRss()))
        await old.p.stop()
      }
      const p = await startRole(name, origins, started)
      live.set(name, { p, stopRss: samplePeakRss(p.pid, 100) })
      await run(name)
    }
    console.log(
      `# reverse proxy, GET 100 B, ${CONNECTIONS} connections, wrk (1 thread), ${count} pairs of ${seconds} s runs ` +
        `back to back (order alternating), both servers started afresh every ${perProcess} pairs; ${pinningNote()}`,
    )
    for (const [a, b, target] of [
      ['ours-1+ac+cache', 'http-proxy', '>= 1.8x'],
      ['ours-2+health', 'ours-1', '>= 0.95x'],
    ]) {
      const ratios = []
      const cpuRatios = []
      for (let i = 0; i < count; i++) {
        if (i % perProcess === 0) {
          await fresh(a)
          await fresh(b)
        }
        const first = i % 2 === 0 ? a : b
        const r1 = await run(first)
        const r2 = await run(first === a ? b : a)
        const [ra, rb] = first === a ? [r1, r2] : [r2, r1]
        const ratio = ra.rps / rb.rps
        ratios.push(ratio)
        if (ra.cpuMsPerReq > 0 && rb.cpuMsPerReq > 0) cpuRatios.push(rb.cpuMsPerReq / ra.cpuMsPerReq)
        console.log(
          `  pair ${String(i + 1).padStart(2)}: ${a} ${Math.round(ra.rps)} req/s, ${b} ${Math.round(rb.rps)} req/s: ${ratio.toFixed(2)}x`,
        )
      }
      console.log(`${a} / ${b}: ${pairSummary(ratios, cpuRatios)}; target ${target}`)
    }
    for (const [name, { stopRss }] of live) peaks.set(name, Math.max(peaks.get(name) ?? 0, stopRss()))
    console.log(
      `peak RSS of any one process (each lives ${perProcess} pairs; the rss mode measures RSS): ` +
        `${[...peaks].map(([name, mb]) => `${name} ${mb.toFixed(0)} MB`).join(', ')}`,
    )
  } finally {
    await stopAll(started)
  }
}

/**
 * The issue's "proxy RSS under 100 MB at 64 connections": each server alone through one unbroken run of
 * BENCH_RSS_SECONDS at CONNECTIONS connections (after a 3 s warm-up on the same connections' count),
 * its RSS sampled every 100 ms. The pairs mode's peak RSS is another figure: there a process takes run
 * after run, each closing its 64 connections and opening 64 new ones, and each round leaves Node's
 * per-socket objects in V8's old space until a mark-compact collects them. `ours-1+cors+helmet+compress` is
 * issue 21's (d): the proxy with the citizenship plugins registered (every request sends an Origin, so cors
 * answers it; 100 B stays under compress's threshold, its onSend hook still runs). BENCH_RSS_ROLES
 * (comma-separated) measures only those servers.
 */
async function rss() {
  const seconds = Number(process.env.BENCH_RSS_SECONDS ?? 90)
  if (!hasCommand('/usr/bin/wrk') && !hasCommand('wrk')) throw new Error('rss needs wrk')
  const started = []
  pinLoadSide()
  try {
    const origins = await startOrigins(started)
    console.log(
      `# reverse proxy RSS, GET 100 B, ${CONNECTIONS} connections, one unbroken wrk run of ${seconds} s ` +
        `per server (target < 100 MB); ${pinningNote()}`,
    )
    const all = [
      'plain',
      'http-proxy',
      'ours-1',
      'ours-1+ac+cache',
      'ours-2+health',
      'ours-1+cors+helmet+compress',
      'ours-1+cors+helmet',
      'ours-1+compress',
      'plain+cors+helmet+compress',
      'http-proxy+cors+helmet+compress',
    ]
    const names = process.env.BENCH_RSS_ROLES?.split(',') ?? all
    for (const name of names) {
      if (!all.includes(name))
        throw new Error(`BENCH_RSS_ROLES: unknown server ${name} (one of ${all.join(', ')})`)
      const p = await startRole(name, origins, started, { BENCH_MEM_BREAKDOWN: '1' })
      const idle = p.rssMB()
      const stop = sampleRssTimeline(p.pid)
      const r = await measureWrk({
        name,
        url: `${p.url}/`,
        duration: seconds,
        connections: CONNECTIONS,
        headers: { origin: 'https://front.test' },
        warmup: 3,
        server: p,
      })
      const t = stop()
      console.log(
        `${name.padEnd(28)} ${Math.round(r.rps)} req/s  RSS idle ${idle.toFixed(0)} MB, peak ${t.peak.toFixed(1)} MB, ` +
          `at the end ${t.last.toFixed(1)} MB; peak per 10 s: ${t.windows.map((w) => w.toFixed(0)).join(' ')}`,
      )
      await p.stop()
    }
  } finally {
    await stopAll(started)
  }
}

/**
 * `node bench/reverse-proxy.mjs citizenship`: issue 21's benchmark in callgrind instructions per request
 * (deterministic within about 1% on this shared machine, where req/s is not), every variant in one run:
 * (a) no other hooks, ours against @fastify/http-proxy (target >= 1.8x); (b) with @fastify/cors and
 * @fastify/helmet registered, ours against ours without them (target <= +5%), and http-proxy with them for
 * reference; (c) a 16 KiB text body through @fastify/compress for a gzip client, ours against http-proxy
 * with the same (target >= 1.2x).
 */
async function citizenship() {
  const { countLine, instructionsPerRequest, requireCallgrind } = await import('./lib/instructions.mjs')
  requireCallgrind()
  const started = []
  const dir = makeTempDir('proxykit-rp-bench-cit-')
  // BENCH_CIT_ONLY (comma-separated variant names) counts only those; the ratios then print NaN.
  const only = process.env.BENCH_CIT_ONLY?.split(',')
  const count = async (name, origin, load) => {
    if (only !== undefined && !only.includes(name)) return Number.NaN
    const r = await instructionsPerRequest({
      dir,
      tag: name.replaceAll('+', '_'),
      script: SELF,
      args: ['role', name, origin.url],
      path: '/',
      ...(load === undefined ? {} : { load }),
    })
    console.log(countLine(name.padEnd(24), r))
    return r.perRequest
  }
  try {
    const small = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    const large = await startProcess(ORIGIN, [], { BODY_SIZE: String(16 * 1024), BODY_TEXT: '1' })
    started.push(small, large)
    // Every (a) and (b) variant gets the same requests (an Origin header, which cors answers), so that
    // each pair differs only in the plugins registered.
    const origin = gets({ origin: 'https://front.test' })
    console.log('# (a) GET 100 B, no other hooks')
    const base = await count('http-proxy', small, origin)
    const ours = await count('ours-1', small, origin)
    console.log(`  http-proxy / ours-1: ${(base / ours).toFixed(2)}x (target >= 1.8x)`)
    console.log('# (b) GET 100 B with @fastify/cors and @fastify/helmet registered (Origin sent)')
    const oursCors = await count('ours-1+cors+helmet', small, origin)
    const baseCors = await count('http-proxy+cors+helmet', small, origin)
    // The plugins' own cost: a plain Fastify route sending the same 100 bytes, without and with them.
    const plain = await count('plain', small, origin)
    const plainCors = await count('plain+cors+helmet', small, origin)
    const plugins = plainCors - plain
    const added = oursCors - ours - plugins
    const n = (x) => Math.round(x).toLocaleString('en-US').padStart(9)
    const pct = (x) => `${((x / ours) * 100).toFixed(1)}% of ours-1`
    console.log(`  ours-1                 ${n(ours)}`)
    console.log(
      `  ours-1+cors+helmet     ${n(oursCors)}  +${n(oursCors - ours).trim()}, ` +
        `${((oursCors / ours - 1) * 100).toFixed(1)}% over ours-1 (issue target <= 5%)`,
    )
    console.log(`  plain                  ${n(plain)}`)
    console.log(
      `  plain+cors+helmet      ${n(plainCors)}  +${n(plugins).trim()}: the plugins' own work, ${pct(plugins)}`,
    )
    console.log(
      `  our share              ${n(added)}  (ours-1+cors+helmet - ours-1) - (plain+cors+helmet - plain): ` +
        `${pct(added)} (aim < 5%)`,
    )
    console.log(
      `  http-proxy+cors+helmet ${n(baseCors)}  ${((baseCors / base - 1) * 100).toFixed(1)}% over http-proxy; ` +
        `${(baseCors / oursCors).toFixed(2)}x ours-1+cors+helmet`,
    )
    console.log('# (c) GET 16 KiB text through @fastify/compress, Accept-Encoding: gzip')
    const gzip = gets({ 'accept-encoding': 'gzip' }, 'gzip')
    const baseGz = await count('http-proxy+compress', large, gzip)
    const oursGz = await count('ours-1+compress', large, gzip)
    console.log(`  http-proxy+compress / ours-1+compress: ${(baseGz / oursGz).toFixed(2)}x (target >= 1.2x)`)
    // The floor: the same body gzipped by @fastify/compress on a route of the app's own (no proxy). What
    // is left above it is each proxy's own hop.
    const plainGz = await count('plain16k+compress', large, gzip)
    console.log(
      `  plain16k+compress (the floor): ${Math.round(plainGz).toLocaleString('en-US')}; above it, ` +
        `http-proxy ${Math.round(baseGz - plainGz).toLocaleString('en-US')}, ours ` +
        `${Math.round(oursGz - plainGz).toLocaleString('en-US')}: ${((baseGz - plainGz) / (oursGz - plainGz)).toFixed(2)}x`,
    )
  } finally {
    await stopAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A load for instructionsPerRequest: `count` GETs with `headers`, 8 at a time, each checked. */
function gets(headers, encoding) {
  return async (port, total) => {
    const { Pool } = await import('undici')
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 })
    let left = total
    const worker = async () => {
      while (left > 0) {
        left--
        const r = await pool.request({ path: '/', method: 'GET', headers })
        await r.body.dump()
        if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`)
        if (encoding !== undefined && r.headers['content-encoding'] !== encoding)
          throw new Error(`content-encoding ${r.headers['content-encoding']}, not ${encoding}`)
      }
    }
    try {
      await Promise.all(Array.from({ length: 8 }, worker))
    } finally {
      await pool.close()
    }
  }
}

if (process.argv[2] === 'role') await role(process.argv[3], process.argv.slice(4))
else if (process.argv[2] === 'citizenship') await citizenship()
else if (process.argv[2] === 'cpu') await cpuOnly()
else if (process.argv[2] === 'pairs') await pairs()
else if (process.argv[2] === 'rss') await rss()
else if (process.argv[2] === 'instructions') await instructions()
else await main()
