#!/usr/bin/env node
// Forward-proxy benchmark: @proxykit/forward-proxy side by side with proxy-chain (the Node peer) and, when
// installed, Squid and tinyproxy, all in one run, all on loopback, each proxy a child process.
//
//   node bench/forward-proxy.mjs   (BENCH_DURATION=seconds per run, default 8; BENCH_ROUNDS=3; BENCH_CONNECTIONS=64;
//                                  BENCH_SCENARIOS=absolute,tunnel,connect to run some only)
//
// Scenarios:
//   absolute   absolute-form `GET http://127.0.0.1:ORIGIN/` of a 100-byte body, keep-alive, autocannon
//              (and wrk with a Lua script setting the absolute path, when /usr/bin/wrk exists)
//   tunnel     64 CONNECT tunnels opened once, then back-to-back keep-alive GETs inside them
//              ("HTTPS-like" short exchanges without the TLS cost, so the proxy is what is measured),
//              driven by lib/tunnel-load.c (compiled with `cc` into the run's temp dir; wrk cannot
//              open tunnels) against a raw `net` origin that answers canned bytes: with a Node client
//              and Node's http server sharing the load core, the load side saturated before one proxy
//              core did and the row measured the harness. Without `cc`, a Node client is used, and the
//              run says so.
//   connect    one new CONNECT tunnel per exchange (tunnel set-up rate: the full Fastify lifecycle)
// The origin answers directly too ("direct"), as the ceiling.
//
//   node bench/forward-proxy.mjs pairs   the ratios from BENCH_PAIRS (default 12) pairs of short runs
//                                        (BENCH_PAIR_SECONDS, default 3) back to back, order alternating:
//                                        absolute-form (wrk) against Squid and proxy-chain, tunnels against
//                                        proxy-chain (BENCH_SCENARIOS picks); the median ratio of each,
//                                        and proxykit's peak RSS
//   node bench/forward-proxy.mjs rss     proxykit's and proxy-chain's RSS, a fresh process per scenario
//                                        (absolute-form, then tunnels) through one unbroken run of
//                                        BENCH_RSS_SECONDS (default 90) at 64 connections
//   node bench/forward-proxy.mjs instructions   user-space instructions under callgrind: per absolute-form
//                                               GET, a bare Fastify + undici spike vs proxykit; per exchange
//                                               inside CONNECT tunnels, proxykit vs proxy-chain
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { BIN, makeTempDir, startSquidForward, startTinyproxy } from './lib/external.mjs'
import {
  hasCommand,
  pairSummary,
  samplePeakRss,
  sampleRssTimeline,
  startProcess,
  stopAll,
  treeCpuSecondsOf,
} from './lib/harness.mjs'
import { pinLoadSide, pinningNote, pinServer } from './lib/pin.mjs'
import { announce, serve } from './lib/role.mjs'
import { buildTunnelLoader, nativeTunnelLoad } from './lib/tunnel.mjs'

const SELF = fileURLToPath(import.meta.url)
const execFileAsync = promisify(execFile)
const BODY = 'x'.repeat(100)
/** Interleaved rounds per scenario (BENCH_ROUNDS); each row is the median round. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
/** Which scenarios run (BENCH_SCENARIOS, comma-separated; default all three). */
const SCENARIOS = new Set((process.env.BENCH_SCENARIOS ?? 'absolute,tunnel,connect').split(','))

// ---- helpers -----------------------------------------------------------------------------------------
function percentile(sorted, p) {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** Runs `connections` copies of `worker` to the end, then req/s, p50/p99 of `latencies` (ms) and errors. */
async function runWorkers(worker, connections, latencies, errors) {
  const started = Date.now()
  await Promise.all(Array.from({ length: connections }, worker))
  const seconds = (Date.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: errors(),
  }
}

// ---- load generators ---------------------------------------------------------------------------------
async function autocannonAbsolute(proxyPort, originPort, connections, duration) {
  const { default: autocannon } = await import('autocannon')
  const result = await autocannon({
    url: `http://127.0.0.1:${proxyPort}`,
    connections,
    duration,
    requests: [{ method: 'GET', path: `http://127.0.0.1:${originPort}/` }],
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  }
}

async function autocannonDirect(originPort, connections, duration) {
  const { default: autocannon } = await import('autocannon')
  const result = await autocannon({ url: `http://127.0.0.1:${originPort}/`, connections, duration })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  }
}

async function wrkAbsolute(dir, proxyPort, originPort, connections, duration) {
  const script = join(dir, `wrk-${originPort}.lua`)
  writeFileSync(
    script,
    `wrk.path = "http://127.0.0.1:${originPort}/"\nwrk.headers["Host"] = "127.0.0.1:${originPort}"\n`,
  )
  const target = proxyPort === null ? `http://127.0.0.1:${originPort}/` : `http://127.0.0.1:${proxyPort}/`
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--latency']
  if (proxyPort !== null) args.push('-s', script)
  // Asynchronous, so this process keeps sampling the proxy's RSS while wrk runs.
  const { stdout: out } = await execFileAsync('/usr/bin/wrk', [...args, target], {
    encoding: 'utf8',
    timeout: (duration + 30) * 1000,
  })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)
  const ms = (label) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
    if (!m) return 0
    const v = Number(m[1])
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
  }
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
  return { rps, p50: ms('50'), p99: ms('99'), errors }
}

const REQUEST = (originPort) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\n\r\n`

/** Reads one response (fixed-size body, Content-Length) off `state.buf`; returns true when complete. */
function takeResponse(state) {
  const end = state.buf.indexOf('\r\n\r\n')
  if (end === -1) return false
  const head = state.buf.subarray(0, end).toString('latin1')
  const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
  if (state.buf.length < end + 4 + len) return false
  state.ok = head.startsWith('HTTP/1.1 200')
  state.buf = state.buf.subarray(end + 4 + len)
  return true
}

function openTunnel(proxyPort, originPort) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1')
    socket.setNoDelay(true)
    let buf = Buffer.alloc(0)
    const onData = (c) => {
      buf = Buffer.concat([buf, c])
      const end = buf.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.off('data', onData)
      if (
        !buf.subarray(0, 12).toString().startsWith('HTTP/1.1 200') &&
        !buf.toString().startsWith('HTTP/1.0 200')
      ) {
        socket.destroy()
        reject(new Error(`CONNECT refused: ${buf.subarray(0, end).toString()}`))
        return
      }
      resolve({ socket, rest: buf.subarray(end + 4) })
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.write(`CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\n\r\n`)
  })
}

/** Back-to-back keep-alive requests inside long-lived tunnels. */
async function tunnelLoad(proxyPort, originPort, connections, duration) {
  const latencies = []
  let errors = 0
  const stopAt = Date.now() + duration * 1000
  const worker = async () => {
    let tunnel
    try {
      tunnel = await openTunnel(proxyPort, originPort)
    } catch {
      errors++
      return
    }
    const { socket } = tunnel
    const state = { buf: tunnel.rest, ok: false }
    await new Promise((resolve) => {
      let started = 0
      const send = () => {
        if (Date.now() >= stopAt) {
          socket.destroy()
          resolve()
          return
        }
        started = performance.now()
        socket.write(REQUEST(originPort))
      }
      socket.on('data', (c) => {
        state.buf = state.buf.length === 0 ? c : Buffer.concat([state.buf, c])
        while (takeResponse(state)) {
          if (state.ok) latencies.push(performance.now() - started)
          else errors++
          send()
        }
      })
      socket.on('error', () => {
        errors++
        resolve()
      })
      socket.on('close', resolve)
      send()
    })
  }
  return runWorkers(worker, connections, latencies, () => errors)
}

/** A new tunnel for every exchange: CONNECT, one GET, close. */
async function connectLoad(proxyPort, originPort, connections, duration) {
  const latencies = []
  let errors = 0
  const stopAt = Date.now() + duration * 1000
  const worker = async () => {
    while (Date.now() < stopAt) {
      const t0 = performance.now()
      try {
        const { socket, rest } = await openTunnel(proxyPort, originPort)
        const state = { buf: rest, ok: false }
        await new Promise((resolve, reject) => {
          socket.on('data', (c) => {
            state.buf = Buffer.concat([state.buf, c])
            if (takeResponse(state)) {
              socket.destroy()
              resolve()
            }
          })
          socket.once('error', reject)
          socket.once('close', resolve)
          socket.write(REQUEST(originPort))
        })
        if (state.ok) latencies.push(performance.now() - t0)
        else errors++
      } catch {
        errors++
        await new Promise((r) => setTimeout(r, 10))
      }
    }
  }
  return runWorkers(worker, connections, latencies, () => errors)
}

/**
 * The load of one scenario against a proxy on `port` for `seconds`: absolute-form GETs by wrk (autocannon
 * without wrk), or back-to-back exchanges inside tunnels by lib/tunnel-load.c (the Node client without cc).
 */
function scenarioLoad({ dir, origin, rawOrigin, loader, connections }) {
  const useWrk = existsSync('/usr/bin/wrk')
  return (scenario, port, seconds) =>
    scenario === 'absolute'
      ? useWrk
        ? wrkAbsolute(dir, port, origin.port, connections, seconds)
        : autocannonAbsolute(port, origin.port, connections, seconds)
      : loader
        ? nativeTunnelLoad(loader, port, rawOrigin.port, connections, seconds)
        : tunnelLoad(port, rawOrigin.port, connections, seconds)
}

// ---- main --------------------------------------------------------------------------------------------
async function main(mode = 'table') {
  const pairs = mode === 'pairs'
  const pairCount = Number(process.env.BENCH_PAIRS ?? 12)
  const duration = pairs
    ? Number(process.env.BENCH_PAIR_SECONDS ?? 3)
    : mode === 'rss'
      ? Number(process.env.BENCH_RSS_SECONDS ?? 90)
      : Number(process.env.BENCH_DURATION ?? 8)
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 64)
  const dir = makeTempDir('proxykit-bench-forward-')
  const children = []
  pinLoadSide()
  try {
    const origin = await startProcess(SELF, ['--origin'])
    children.push(origin)
    const rawOrigin = await startProcess(SELF, ['--raw-origin'])
    children.push(rawOrigin)
    const loader = buildTunnelLoader(dir)
    if (mode === 'rss') {
      await rssRuns({ origin, rawOrigin, loader, dir, connections, duration })
      return
    }
    const proxies = []
    const add = async (name, start) => {
      const p = await start()
      children.push(p)
      pinServer(p.pid)
      proxies.push({ name, port: p.port, pid: p.pid })
    }
    await add('proxykit', () =>
      startProcess(SELF, ['--proxykit', String(origin.port), String(rawOrigin.port)]),
    )
    await add('proxy-chain', () => startProcess(SELF, ['--proxy-chain']))
    if (hasCommand(BIN.squid)) await add('squid', () => startSquidForward(dir))
    if (hasCommand(BIN.tinyproxy))
      await add('tinyproxy', () => startTinyproxy(dir, [origin.port, rawOrigin.port]))
    const useWrk = existsSync('/usr/bin/wrk')
    console.log(
      `forward-proxy bench: ${duration}s per run, ${connections} connections, node ${process.version}, ` +
        `proxies: ${proxies.map((p) => p.name).join(', ')}${useWrk ? ', wrk' : ''}; ` +
        `tunnels driven by ${loader ? 'lib/tunnel-load.c' : 'the Node client (no cc)'}; ${pinningNote()}`,
    )
    // Every scenario is run in ROUNDS interleaved rounds (proxy A, B, C, then A, B, C again) and each
    // row is the median round: a burst of outside load then hits every proxy alike instead of one row.
    const rows = []
    const record = (scenario, tool, name, runs) => {
      const r = [...runs].sort((a, b) => a.rps - b.rps)[runs.length >> 1]
      rows.push({ scenario, tool, name, ...r })
      console.log(
        `${scenario.padEnd(9)} ${tool.padEnd(10)} ${name.padEnd(12)} ${r.rps.toFixed(0).padStart(7)} req/s  ` +
          `p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}` +
          (r.cpuUs ? `  CPU ${r.cpuUs.toFixed(0)} µs/req` : '') +
          (r.rss ? `  peak RSS ${r.rss.toFixed(0)} MB` : '') +
          (runs.length > 1 ? `  (rounds: ${runs.map((x) => x.rps.toFixed(0)).join(', ')})` : ''),
      )
    }
    // One measured run of `load` against proxy `p`: its req/s, latencies, peak RSS and CPU per request.
    const run = async (p, load) => {
      const stop = samplePeakRss(p.pid, 200)
      const cpu0 = treeCpuSecondsOf(p.pid)
      const r = await load()
      const cpu = treeCpuSecondsOf(p.pid) - cpu0
      return { ...r, rss: stop(), cpuUs: (cpu * 1e6) / Math.max(1, r.rps * duration) }
    }
    const scenario = async (name, tool, load) => {
      const runs = new Map(proxies.map((p) => [p.name, []]))
      for (let round = 0; round < ROUNDS; round++)
        for (const p of proxies) runs.get(p.name).push(await run(p, () => load(p)))
      for (const p of proxies) record(name, tool, p.name, runs.get(p.name))
    }
    // Warm-up: each proxy's pools and JIT.
    for (const p of proxies) await autocannonAbsolute(p.port, origin.port, connections, 3)
    if (pairs) {
      await pairRuns({
        proxies,
        run,
        origin,
        rawOrigin,
        loader,
        dir,
        connections,
        duration,
        count: pairCount,
      })
      return
    }

    if (SCENARIOS.has('absolute')) {
      record('absolute', 'autocannon', 'direct', [await autocannonDirect(origin.port, connections, duration)])
      await scenario('absolute', 'autocannon', (p) =>
        autocannonAbsolute(p.port, origin.port, connections, duration),
      )
      if (useWrk) {
        record('absolute', 'wrk', 'direct', [
          await wrkAbsolute(dir, null, origin.port, connections, duration),
        ])
        await scenario('absolute', 'wrk', async (p) =>
          wrkAbsolute(dir, p.port, origin.port, connections, duration),
        )
      }
    }
    if (SCENARIOS.has('tunnel'))
      await scenario('tunnel', 'custom', (p) =>
        scenarioLoad({ dir, origin, rawOrigin, loader, connections })('tunnel', p.port, duration),
      )
    if (SCENARIOS.has('connect'))
      await scenario('connect', 'custom', (p) => connectLoad(p.port, origin.port, connections, duration))

    console.log('\nratios (proxykit / other, same scenario and tool): req/s, and in brackets CPU per request')
    for (const scenario of ['absolute', 'tunnel', 'connect']) {
      for (const tool of ['autocannon', 'wrk', 'custom']) {
        const ours = rows.find((r) => r.scenario === scenario && r.tool === tool && r.name === 'proxykit')
        if (!ours) continue
        const parts = rows
          .filter((r) => r.scenario === scenario && r.tool === tool && r.name !== 'proxykit' && r.rps > 0)
          .map(
            (r) =>
              `${r.name} ${(ours.rps / r.rps).toFixed(2)}x` +
              (r.cpuUs ? ` (${(r.cpuUs / ours.cpuUs).toFixed(2)}x)` : ''),
          )
        console.log(`  ${scenario.padEnd(9)} ${tool.padEnd(10)} ${parts.join('  ')}`)
      }
    }
  } finally {
    await stopAll(children)
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * `node bench/forward-proxy.mjs pairs`: proxykit against one other proxy in `count` pairs of runs back to
 * back (the order alternating), for each of the targets; prints every pair and the median ratio
 * of req/s and of CPU per request. On this VM a slow spell outlasts a pair, so it moves both runs of a
 * pair alike, where in the interleaved table it lands on whichever rows ran in it.
 */
async function pairRuns({ proxies, run, origin, rawOrigin, loader, dir, connections, duration, count }) {
  const ours = proxies.find((p) => p.name === 'proxykit')
  const useWrk = existsSync('/usr/bin/wrk')
  const load = scenarioLoad({ dir, origin, rawOrigin, loader, connections })
  const absolute = (p) => load('absolute', p.port, duration)
  const tunnel = (p) => load('tunnel', p.port, duration)
  const comparisons = [
    ['absolute', 'squid', absolute, '>= 1x'],
    ['absolute', 'proxy-chain', absolute, '>= 3x'],
    ['tunnel', 'proxy-chain', tunnel, '>= 1x'],
  ]
  console.log(
    `pairs: ${count} per comparison, ${duration} s runs, absolute-form by ${useWrk ? 'wrk' : 'autocannon'}, ` +
      `tunnels by ${loader ? 'lib/tunnel-load.c' : 'the Node client'}`,
  )
  let peak = 0
  for (const [scenario, name, load, target] of comparisons) {
    const other = proxies.find((p) => p.name === name)
    if (other === undefined || !SCENARIOS.has(scenario)) continue
    const ratios = []
    const cpu = []
    for (let i = 0; i < count; i++) {
      const order = i % 2 === 0 ? [ours, other] : [other, ours]
      const r = new Map()
      for (const p of order) r.set(p.name, await run(p, () => load(p)))
      const a = r.get('proxykit')
      const b = r.get(name)
      peak = Math.max(peak, a.rss)
      ratios.push(a.rps / b.rps)
      cpu.push(b.cpuUs / a.cpuUs)
      console.log(
        `  ${scenario.padEnd(9)} pair ${String(i + 1).padStart(2)}: proxykit ${a.rps.toFixed(0)}, ${name} ` +
          `${b.rps.toFixed(0)} req/s: ${(a.rps / b.rps).toFixed(2)}x (CPU per request ${(b.cpuUs / a.cpuUs).toFixed(2)}x)`,
      )
    }
    console.log(`${scenario} proxykit / ${name}: ${pairSummary(ratios, cpu)}; target ${target}`)
  }
  console.log(
    `proxykit peak RSS over the pairs: ${peak.toFixed(0)} MB (one process, its 64 connections reopened ` +
      'every run; `rss` measures RSS at 64 connections)',
  )
}

/**
 * The issue's "proxy RSS under 100 MB at 64 connections": for each proxy and scenario (absolute-form by
 * wrk, then 64 tunnels), a fresh proxy process, a 3 s warm-up, then one unbroken run of `duration`
 * seconds, its RSS sampled every 100 ms from the warm-up on. The pairs mode's peak is another figure:
 * there one process takes every scenario and has its 64 connections closed and opened again for every
 * run, for minutes; each round leaves Node's per-socket objects in V8's old space until a mark-compact
 * collects them.
 */
async function rssRuns({ origin, rawOrigin, loader, dir, connections, duration }) {
  console.log(
    `rss: a fresh process per proxy and scenario, 3 s warm-up, then one unbroken run of ${duration} s at ` +
      `${connections} connections (target < 100 MB); ${pinningNote()}`,
  )
  const proxies = [
    ['proxykit', () => startProcess(SELF, ['--proxykit', String(origin.port), String(rawOrigin.port)])],
    ['proxy-chain', () => startProcess(SELF, ['--proxy-chain'])],
  ]
  const load = scenarioLoad({ dir, origin, rawOrigin, loader, connections })
  for (const scenario of ['absolute', 'tunnel']) {
    if (!SCENARIOS.has(scenario)) continue
    for (const [name, start] of proxies) {
      const p = await start()
      try {
        pinServer(p.pid)
        const idle = p.rssMB()
        const stop = sampleRssTimeline(p.pid)
        await load(scenario, p.port, 3)
        const r = await load(scenario, p.port, duration)
        const t = stop()
        console.log(
          `${scenario.padEnd(9)} ${name.padEnd(12)} ${Math.round(r.rps)} req/s  RSS idle ${idle.toFixed(0)} MB, ` +
            `peak ${t.peak.toFixed(1)} MB, at the end ${t.last.toFixed(1)} MB; ` +
            `peak per 10 s: ${t.windows.map((w) => w.toFixed(0)).join(' ')}`,
        )
      } finally {
        await p.stop()
      }
    }
  }
}

// ---- child roles -------------------------------------------------------------------------------------
const role = process.argv[2]
if (role === '--origin') {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length })
    res.end(BODY)
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => announce(`http://127.0.0.1:${server.address().port}`))
} else if (role === '--raw-origin') {
  // The tunnel scenario's origin: a `net` server answering every request head with the same canned
  // 100-byte response (no HTTP parser), so the load core has room left to saturate the proxy's.
  const response = Buffer.from(
    `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`,
  )
  const server = net.createServer({ noDelay: true }, (socket) => {
    let tail = ''
    socket.setEncoding('latin1')
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      const text = tail + chunk
      let from = 0
      let heads = 0
      for (let at = text.indexOf('\r\n\r\n'); at !== -1; at = text.indexOf('\r\n\r\n', from)) {
        heads++
        from = at + 4
      }
      tail = text.slice(from)
      if (heads > 0) socket.write(heads === 1 ? response : Buffer.concat(Array(heads).fill(response)))
    })
  })
  server.listen(0, '127.0.0.1', () => announce(`http://127.0.0.1:${server.address().port}`))
} else if (role === '--proxykit') {
  const { default: Fastify } = await import('fastify')
  const { default: forwardProxy } = await import('@proxykit/forward-proxy')
  const connectPorts = process.argv.slice(3).map(Number)
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 })
  await app.register(forwardProxy, { allow: ['127.0.0.1/32'], connectPorts })
  await serve(app)
} else if (role === '--proxy-chain') {
  const { Server } = await import('proxy-chain')
  const server = new Server({ port: 0, host: '127.0.0.1', verbose: false })
  await server.listen()
  announce(`http://127.0.0.1:${server.server.address().port}`)
} else if (role === '--spike') {
  // The thinnest Fastify + undici forwarder: an onRequest hook that sends an absolute-form request on
  // with undici's dispatch and writes the answer to reply.raw. No checks of any kind: a floor, not a proxy.
  const { default: Fastify } = await import('fastify')
  const { Pool } = await import('undici')
  const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade'])
  const pools = new Map()
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 })
  app.addHook('onRequest', (request, reply, done) => {
    const url = request.raw.url
    if (!url.startsWith('http://')) return done()
    const slash = url.indexOf('/', 7)
    const origin = url.slice(0, slash)
    let pool = pools.get(origin)
    if (pool === undefined) {
      pool = new Pool(origin)
      pools.set(origin, pool)
    }
    const headers = {}
    const raw = request.raw.rawHeaders
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase()
      if (!HOP.has(name)) headers[name] = raw[i + 1]
    }
    reply.hijack()
    const res = reply.raw
    pool.dispatch(
      { method: request.raw.method, path: url.slice(slash), headers },
      {
        onRequestStart() {},
        onResponseStart(_controller, status, upstreamHeaders) {
          const out = {}
          for (const name in upstreamHeaders) if (!HOP.has(name)) out[name] = upstreamHeaders[name]
          res.writeHead(status, out)
        },
        onResponseData(_controller, chunk) {
          res.write(chunk)
        },
        onResponseEnd() {
          res.end()
        },
        onResponseError(_controller, err) {
          res.destroy(err)
        },
      },
    )
  })
  await serve(app)
} else if (role === 'instructions') {
  // `node bench/forward-proxy.mjs instructions`: user-space instructions under callgrind
  // (lib/instructions.mjs), one server at a time: per absolute-form GET, the spike above against
  // @proxykit/forward-proxy; per exchange inside 8 long-lived CONNECT tunnels, proxykit against proxy-chain.
  const { countLine, instructionsPerRequest, requireCallgrind } = await import('./lib/instructions.mjs')
  requireCallgrind()
  const origin = await startProcess(SELF, ['--origin'])
  const dir = makeTempDir('proxykit-bench-forward-cg-')
  const report = (what, name, r) =>
    console.log(
      countLine(`${what.padEnd(9)} ${name.padEnd(12)}`, r, what === 'absolute' ? 'request' : 'exchange'),
    )
  try {
    for (const [name, args] of [
      ['spike', ['--spike']],
      ['proxykit', ['--proxykit', String(origin.port)]],
    ]) {
      const r = await instructionsPerRequest({
        dir,
        tag: name,
        script: SELF,
        args,
        path: `http://127.0.0.1:${origin.port}/`,
      })
      report('absolute', name, r)
    }
    for (const [name, args] of [
      ['proxykit', ['--proxykit', String(origin.port)]],
      ['proxy-chain', ['--proxy-chain']],
    ]) {
      let tunnels = null
      const load = async (port, count) => {
        tunnels ??= await Promise.all(Array.from({ length: 8 }, () => openTunnel(port, origin.port)))
        let left = count
        await Promise.all(
          tunnels.map(async (t) => {
            const state = { buf: t.rest, ok: false }
            while (left > 0) {
              left--
              t.socket.write(REQUEST(origin.port))
              while (!takeResponse(state)) {
                const [chunk] = await once(t.socket, 'data')
                state.buf = Buffer.concat([state.buf, chunk])
              }
              if (!state.ok) throw new Error(`${name}: a tunnelled exchange did not answer 200`)
            }
            t.rest = state.buf
          }),
        )
      }
      try {
        const r = await instructionsPerRequest({
          dir,
          tag: `tunnel-${name}`,
          script: SELF,
          args,
          path: '/',
          load,
        })
        report('tunnel', name, r)
      } finally {
        for (const t of tunnels ?? []) t.socket.destroy()
      }
    }
  } finally {
    await stopAll([origin])
    rmSync(dir, { recursive: true, force: true })
  }
} else {
  await main(role === 'pairs' || role === 'rss' ? role : 'table')
}
