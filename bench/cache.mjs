#!/usr/bin/env node
// @proxykit/cache benchmark, side by side in one run, every server a child process on loopback:
//
//   hits (100 B and 16 KiB bodies)
//     plain route        a Fastify route sending the same bytes from memory (the baseline)
//     node http          a bare node:http server sending the same bytes, no Fastify: the floor under any
//                        Fastify app, so under any hit a Fastify plugin can answer
//     plain route + core the same with @proxykit/core's context hook, which every proxykit plugin installs
//     cache hit          @proxykit/cache in front of a relay route (undici + core's relay);
//                        after the first request every request is a hit
//     shape: send/raw    a preHandler answering from a Map with reply.send, and with reply.hijack() +
//                        reply.raw: the two ways a hit can be written (why the cache writes raw)
//     varnish, squid, nginx proxy_cache   cache hits of the real thing, one worker/thread, when installed
//   a miss (100 B)
//     reverse-proxy      @proxykit/reverse-proxy alone, one upstream: "the proxy without the cache" (baseline)
//     reverse-proxy+cache the same with the cache registered; the origin sends no freshness, so every
//                        request is a miss
//
//   node bench/cache.mjs
//   node bench/cache.mjs instructions   instructions per request under callgrind: a 100 B hit against the plain
//                                       route and node:http alone, a miss through the reverse proxy with and
//                                       without the cache, a 16 KiB hit against the 16 KiB plain route
//                                       (BENCH_CACHE_COUNT=hit,miss,16k,floor counts some of those only)
//
// About 4-5 minutes (through run.mjs, set BENCH_TIMEOUT=600): BENCH_ROUNDS interleaved rounds (default 3) of
// BENCH_DURATION seconds (default 2) per target and tool, BENCH_CONNECTIONS 64; the median round is shown.
//
// Stops everything it started (by PID) before exiting.
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BIN, makeTempDir, startNginx, startSquidCache, startVarnish } from './lib/external.mjs'
import {
  hasCommand,
  measure,
  measureWrk,
  printTable,
  startProcess,
  stopAll,
  treeCpuSecondsOf,
} from './lib/harness.mjs'
import { pinLoadSide, pinningNote, pinServer } from './lib/pin.mjs'
import { announce, serve } from './lib/role.mjs'

const SELF = fileURLToPath(import.meta.url)
const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)

// ---- child roles ---------------------------------------------------------------------------------------

/** An origin answering every request with `size` bytes and the given Cache-Control (or none). */
function origin(size, cacheControl) {
  const body = Buffer.alloc(size, 'x')
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(size) }
  if (cacheControl !== '-') headers['cache-control'] = cacheControl
  const server = http.createServer((req, res) => {
    req.resume()
    res.writeHead(200, headers)
    res.end(body)
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => announce(`http://127.0.0.1:${server.address().port}`))
  process.on('SIGTERM', () => {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  })
}

/** The proxy route the real proxies are built like: undici pool, hijacked reply, core's `relay`. */
async function addProxy(app, upstream) {
  const { Pool } = await import('undici')
  const { relay, sendError, stripHopByHop, BadGatewayError } = await import('@proxykit/core')
  const pool = new Pool(upstream, { connections: 64, pipelining: 1 })
  app.addHook('onClose', () => pool.close())
  const callbacks = (reply) => ({
    headers: (_statusCode, headers) => stripHopByHop(headers),
    failed: (err) => sendError(reply, new BadGatewayError(err.message)),
    done: () => {},
  })
  app.all('/*', (req, reply) => {
    const headers = stripHopByHop(req.headers)
    delete headers.host
    reply.hijack()
    relay(
      pool,
      { method: req.raw.method, path: req.raw.url, headers, body: null },
      req,
      reply,
      callbacks(reply),
    )
  })
}

async function role(name, arg) {
  if (name === 'origin') return origin(Number(arg), process.argv[5] ?? '-')
  if (name === 'node-http') return origin(Number(arg), 'max-age=3600')
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false })
  if (name === 'plain' || name === 'plain+core') {
    // plain+core: the same route with core's request context installed, which every proxykit plugin adds
    // (its classifying onRequest hook): the share of a hit's cost that is not the cache's.
    if (name === 'plain+core') (await import('@proxykit/core')).installProxyContext(app)
    const body = Buffer.alloc(Number(arg), 'x')
    app.get('/*', (_req, reply) => {
      reply.header('content-type', 'application/octet-stream').header('cache-control', 'max-age=3600')
      reply.send(body)
    })
  } else if (name === 'shape-send' || name === 'shape-raw') {
    // A hit's shape without the cache's logic: look a Buffer up in a Map in preHandler and answer.
    const map = new Map([['/x', Buffer.alloc(Number(arg), 'x')]])
    const raw = name === 'shape-raw'
    app.addHook('preHandler', (req, reply, done) => {
      const body = map.get(req.raw.url)
      if (body === undefined) return done()
      if (raw) {
        reply.hijack()
        reply.raw.writeHead(200, [
          'content-type',
          'application/octet-stream',
          'cache-control',
          'max-age=3600',
          'content-length',
          String(body.length),
          'age',
          '0',
        ])
        reply.raw.end(body)
      } else {
        reply
          .header('content-type', 'application/octet-stream')
          .header('cache-control', 'max-age=3600')
          .header('age', '0')
          .send(body)
      }
    })
    app.get('/*', async () => 'miss')
  } else if (name === 'reverse-proxy' || name === 'reverse-proxy+cache') {
    // The miss's baseline: the real @proxykit/reverse-proxy (core's context, header rules, balancer,
    // relay), alone and with the cache registered in front of it.
    if (name === 'reverse-proxy+cache') {
      const { default: cache } = await import('@proxykit/cache')
      await app.register(cache)
    }
    const { default: reverseProxy } = await import('@proxykit/reverse-proxy')
    await app.register(reverseProxy, { routes: [{ upstreams: [arg] }] })
  } else if (name === 'proxy+cache') {
    // The hits' server: the cache in front of a relay route (after the first request, every one a hit).
    const { default: cache } = await import('@proxykit/cache')
    await app.register(cache)
    await addProxy(app, arg)
  }
  await serve(app)
}

// ---- the run -------------------------------------------------------------------------------------------
// The machine these figures come from is shared: req/s move with whatever else runs. So every target is
// measured in ROUNDS short runs, interleaved (target A, B, C, then A, B, C again …), and the median run
// is reported: a burst of outside load then hits every target alike instead of one row. Requests per CPU
// second of the measured server (its whole process tree) is printed too, as the steadier figure.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

function median(list, key) {
  const sorted = [...list].sort((a, b) => a[key] - b[key])
  return sorted[Math.floor(sorted.length / 2)]
}

async function measureAll(targets) {
  const runs = new Map(targets.map((t) => [t.name, { ac: [], wrk: [], eff: [] }]))
  for (const t of targets) await measure({ name: t.name, url: t.url, duration: 1, connections: CONNECTIONS })
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const r = runs.get(t.name)
      const cpu0 = treeCpuSecondsOf(t.pid)
      const a = await measure({ name: t.name, url: t.url, duration: DURATION, connections: CONNECTIONS })
      const cpu = treeCpuSecondsOf(t.pid) - cpu0
      r.ac.push(a)
      r.eff.push({ name: t.name, perCpu: (a.rps * DURATION) / cpu, cpu })
      const w = await measureWrk({ name: t.name, url: t.url, duration: DURATION, connections: CONNECTIONS })
      if (w !== null) r.wrk.push(w)
    }
  }
  const ac = []
  const wrk = []
  const efficiency = []
  for (const t of targets) {
    const r = runs.get(t.name)
    ac.push(median(r.ac, 'rps'))
    if (r.wrk.length > 0) wrk.push(median(r.wrk, 'rps'))
    efficiency.push(median(r.eff, 'perCpu'))
  }
  return { ac, wrk, efficiency }
}

function printEfficiency(efficiency, baselineName) {
  const base = efficiency.find((e) => e.name === baselineName)?.perCpu ?? Number.NaN
  console.log(`\nrequests per CPU-second of the server (autocannon run; baseline: ${baselineName})`)
  console.log('| name | req per CPU-s | vs baseline |')
  console.log('| --- | --- | --- |')
  for (const e of efficiency)
    console.log(
      `| ${e.name} | ${Math.round(e.perCpu).toLocaleString('en-US')} | ${(e.perCpu / base).toFixed(2)}x |`,
    )
}

async function hits(size, dir, started) {
  const o = await startProcess(SELF, ['role', 'origin', String(size), 'max-age=3600'])
  started.push(o)
  const targets = []
  const add = async (name, roleName, arg, path = '/x') => {
    const p = await startProcess(SELF, ['role', roleName, arg])
    started.push(p)
    pinServer(p.pid)
    targets.push({ name, url: `${p.url}${path}`, pid: p.pid })
  }
  await add('plain route', 'plain', String(size))
  await add('node http (no Fastify)', 'node-http', String(size))
  await add('plain route + core', 'plain+core', String(size))
  await add('cache hit', 'proxy+cache', o.url)
  await add('shape: send', 'shape-send', String(size))
  await add('shape: raw', 'shape-raw', String(size))
  const externalTargets = [
    ['varnish', BIN.varnish, startVarnish],
    ['squid', BIN.squid, startSquidCache],
    ['nginx proxy_cache', BIN.nginx, (sub, port) => startNginx(sub, port, { cache: true })],
  ]
  for (const [name, bin, start] of externalTargets) {
    if (!hasCommand(bin)) continue
    try {
      const sub = join(dir, `${name.split(' ')[0]}-${size}`)
      spawnSync('mkdir', ['-p', sub])
      spawnSync('chmod', ['a+rwx', sub])
      const p = await start(sub, o.port)
      started.push(p)
      pinServer(p.pid)
      targets.push({ name, url: `${p.url}/x`, pid: p.pid })
    } catch (err) {
      console.error(`[bench] ${name} did not start: ${err.message}`)
    }
  }
  // Prime every cache (the first request is the miss), and show that the next one is a hit.
  for (const t of targets) {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(t.url)
      await res.arrayBuffer()
      if (i === 2 && /^(cache|varnish|squid|nginx)/.test(t.name))
        console.log(
          `  ${t.name}: ${res.headers.get('cache-status') ?? res.headers.get('x-cache') ?? ''} age=${res.headers.get('age')}`,
        )
    }
  }
  const { ac, wrk, efficiency } = await measureAll(targets)
  const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`
  console.log(
    `\n# cache hits, GET ${label}, ${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${DURATION} s runs`,
  )
  printTable('autocannon', ac, 'plain route')
  if (wrk.some(Boolean)) printTable('wrk (1 thread)', wrk, 'plain route')
  printEfficiency(efficiency, 'plain route')
  printVsSquid(ac, wrk, efficiency)
}

/**
 * The second hit target is Squid's req/s. Against Squid, the rows that bound what a Fastify plugin
 * can reach: node:http alone (nothing a Fastify app answers costs less), the plain route, and the hit.
 */
function printVsSquid(ac, wrk, efficiency) {
  const value = (list, name, key) => list.find((r) => r.name === name)?.[key]
  if (value(ac, 'squid', 'rps') === undefined) return
  const ratio = (list, name, key) => {
    const r = value(list, name, key)
    const s = value(list, 'squid', key)
    return r !== undefined && s !== undefined ? `${(r / s).toFixed(2)}x` : '-'
  }
  console.log('\nagainst Squid (autocannon req/s; wrk req/s; requests per CPU-second)')
  for (const name of ['node http (no Fastify)', 'plain route', 'cache hit'])
    console.log(
      `  ${name}: ${ratio(ac, name, 'rps')}; ${ratio(wrk, name, 'rps')}; ${ratio(efficiency, name, 'perCpu')}`,
    )
}

async function miss(started) {
  const o = await startProcess(SELF, ['role', 'origin', '100', '-'])
  started.push(o)
  const targets = []
  for (const name of ['reverse-proxy', 'reverse-proxy+cache']) {
    const p = await startProcess(SELF, ['role', name, o.url])
    started.push(p)
    pinServer(p.pid)
    targets.push({ name, url: `${p.url}/x`, pid: p.pid })
  }
  const { ac, wrk, efficiency } = await measureAll(targets)
  console.log(
    `\n# a miss (nothing storable), GET 100 B, ${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${DURATION} s runs`,
  )
  printTable('autocannon', ac, 'reverse-proxy')
  if (wrk.some(Boolean)) printTable('wrk (1 thread)', wrk, 'reverse-proxy')
  printEfficiency(efficiency, 'reverse-proxy')
}

async function main() {
  const started = []
  const dir = makeTempDir('proxykit-cache-bench-')
  pinLoadSide()
  console.log(`cache bench: ${pinningNote()}`)
  try {
    const only = process.env.BENCH_CACHE_ONLY
    // The miss first: it is short, and a run cut off by a time bound still reports it.
    if (only === undefined || only === 'miss') await miss(started)
    await stopAll(started.splice(0))
    if (only === undefined || only === '100') await hits(100, dir, started)
    await stopAll(started.splice(0))
    if (only === undefined || only === '16k') await hits(16 * 1024, dir, started)
  } finally {
    await stopAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * `node bench/cache.mjs instructions`: user-space instructions per request under callgrind
 * (lib/instructions.mjs), one server at a time: a 100 B hit against the plain route (with and without
 * core's context) and against node:http alone, a miss through the reverse proxy with and without the
 * cache, and a 16 KiB hit against the plain route sending 16 KiB.
 */
async function instructions() {
  const { countLine, instructionsPerRequest, requireCallgrind } = await import('./lib/instructions.mjs')
  requireCallgrind()
  const started = []
  const dir = makeTempDir('proxykit-cache-bench-cg-')
  try {
    const fresh = await startProcess(SELF, ['role', 'origin', '100', 'max-age=3600'])
    const fresh16k = await startProcess(SELF, ['role', 'origin', '16384', 'max-age=3600'])
    const plain = await startProcess(SELF, ['role', 'origin', '100', '-'])
    started.push(fresh, fresh16k, plain)
    // BENCH_CACHE_COUNT=hit,miss,16k,floor (any of them) counts those rows only: each takes minutes.
    const only = process.env.BENCH_CACHE_COUNT?.split(',')
    const runs = [
      ['floor', 'node http (no Fastify)', 'node-http', '100'],
      ['hit', 'plain route', 'plain', '100'],
      ['floor', 'plain route + core', 'plain+core', '100'],
      ['hit', 'cache hit', 'proxy+cache', fresh.url],
      ['miss', 'reverse-proxy (miss)', 'reverse-proxy', plain.url],
      ['miss', 'reverse-proxy+cache (miss)', 'reverse-proxy+cache', plain.url],
      ['16k', 'plain route (16 KiB)', 'plain', '16384'],
      ['16k', 'cache hit (16 KiB)', 'proxy+cache', fresh16k.url],
    ]
      .filter(([group]) => only === undefined || only.includes(group))
      .map(([, ...run]) => run)
    const counted = new Map()
    for (const [i, [name, roleName, arg]] of runs.entries()) {
      const r = await instructionsPerRequest({
        dir,
        tag: `${i}-${roleName.replaceAll('+', '_')}`,
        script: SELF,
        args: ['role', roleName, arg],
        path: '/x',
      })
      counted.set(name, r.perRequest)
      console.log(countLine(name.padEnd(27), r))
    }
    const vs = (label, a, b) => {
      if (!counted.has(a) || !counted.has(b)) return
      console.log(`  ${label}: +${(((counted.get(a) - counted.get(b)) / counted.get(b)) * 100).toFixed(1)}%`)
    }
    vs('a hit over the plain route', 'cache hit', 'plain route')
    // node:http alone is the floor under anything a Fastify app answers: no hit can cost less.
    vs('the plain route over node:http alone', 'plain route', 'node http (no Fastify)')
    vs('a hit over node:http alone', 'cache hit', 'node http (no Fastify)')
    vs('the cache on a miss', 'reverse-proxy+cache (miss)', 'reverse-proxy (miss)')
    vs('a 16 KiB hit over the plain route', 'cache hit (16 KiB)', 'plain route (16 KiB)')
  } finally {
    await stopAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'role') await role(process.argv[3], process.argv[4])
else if (process.argv[2] === 'instructions') await instructions()
else await main()
