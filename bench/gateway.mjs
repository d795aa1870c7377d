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

if (process.argv[2] === 'role') await role(process.argv[3], process.argv[4], process.argv[5])
else await main()
