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
//   node bench/gateway.mjs memory         RSS of `bare` and `gw` (reverse, cache on) after 20,000 misses on
//                                         64 connections, then the RSS each idle keep-alive connection
//                                         adds at 1,000 and 10,000 connections (one request each, from
//                                         40 loopback addresses: the gateway caps 256 per client address)
//
// The gateway is imported from apps/gateway/dist (build it first). Stops everything it started.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { measureTarget, printTable, startProcess, stopAll } from './lib/harness.mjs'
import { announce, serve } from './lib/role.mjs'

const SELF = fileURLToPath(import.meta.url)
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const GATEWAY = new URL('../apps/gateway/dist/src/index.js', import.meta.url).href
const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)

// ---- child roles ---------------------------------------------------------------------------------------
const DIST = new URL('../apps/gateway/dist/src/', import.meta.url)

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
    rmSync(dir, { recursive: true, force: true })
  }
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
    rmSync(dir, { recursive: true, force: true })
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

/** `node bench/gateway.mjs memory`: issue 28's RSS figures, the gateway beside the bare plugins. */
async function memory() {
  const started = []
  try {
    const origin = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(origin)
    for (const name of ['bare', 'gw']) {
      const p = await startProcess(SELF, [
        'path-role',
        name,
        'miss',
        origin.url,
        await bareOptionsFor('miss', origin.url),
      ])
      started.push(p)
      const idle = rssMB(p.pid)
      await uniqueMissesOn(p.port, 20_000, 64)
      const loaded = rssMB(p.pid)
      console.log(
        `${name.padEnd(4)} RSS: ${idle.toFixed(1)} MB at start, ${loaded.toFixed(1)} MB after 20,000 misses on 64 connections`,
      )
      for (const n of [1000, 10_000]) {
        global.gc?.()
        const before = rssMB(p.pid)
        const sockets = await idleConnections(p.port, n)
        await new Promise((r) => setTimeout(r, 2000))
        const after = rssMB(p.pid)
        console.log(
          `${name.padEnd(4)} ${String(n).padStart(6)} idle keep-alive connections: ${before.toFixed(1)} -> ${after.toFixed(1)} MB, ${(((after - before) * 1024) / n).toFixed(2)} KB each`,
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

if (process.argv[2] === 'role') await role(process.argv[3], process.argv[4], process.argv[5])
else if (process.argv[2] === 'path-role')
  await pathRole(process.argv[3], process.argv[4], process.argv[5], process.argv[6])
else if (process.argv[2] === 'instructions') await instructions()
else if (process.argv[2] === 'memory') await memory()
else await main()
