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
//
// The gateway is imported from apps/gateway/dist (build it first). Stops everything it started.
import { mkdtempSync, rmSync } from 'node:fs'
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

/**
 * Issue 28's roles: `bare` registers the plugins the gateway composes for `path`, with the options its
 * compose/ functions derive from the same config, on a Fastify with no logger; `gw` and `gw-nolog` run
 * the gateway as the CLI does (startOperated: pino on stdout, metrics, live stats, the admin listener).
 */
async function pathRole(name, path, origin) {
  const { resolveConfig } = await import(new URL('index.js', DIST).href)
  const config = resolveConfig(pathConfig(path, origin, name !== 'gw-nolog'))
  if (name === 'bare') {
    const { default: Fastify } = await import('fastify')
    const app = Fastify({ logger: false })
    if (path === 'forward') {
      const { default: accessControl } = await import('@proxykit/access-control')
      const { default: forwardProxy } = await import('@proxykit/forward-proxy')
      const { forwardAccessOptions } = await import(new URL('compose/access.js', DIST).href)
      const { forwardProxyOptions } = await import(new URL('compose/forward.js', DIST).href)
      await app.register(accessControl, forwardAccessOptions(config.forward))
      await app.register(forwardProxy, forwardProxyOptions(config.forward))
    } else {
      const { default: cache } = await import('@proxykit/cache')
      const { default: reverseProxy } = await import('@proxykit/reverse-proxy')
      const { reverseProxyOptions } = await import(new URL('compose/reverse.js', DIST).href)
      await app.register(cache, {})
      await app.register(
        reverseProxy,
        reverseProxyOptions(config.reverse.routes, config.reverse.stripRequestHeaders),
      )
    }
    return serve(app)
  }
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
async function uniqueMisses(port, count) {
  const { Pool } = await import('undici')
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 })
  let left = count
  try {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
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
          args: ['path-role', name, path, origin.url],
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

if (process.argv[2] === 'role') await role(process.argv[3], process.argv[4], process.argv[5])
else if (process.argv[2] === 'path-role') await pathRole(process.argv[3], process.argv[4], process.argv[5])
else if (process.argv[2] === 'instructions') await instructions()
else await main()
