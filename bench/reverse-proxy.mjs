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
//   node bench/reverse-proxy.mjs      (BENCH_DURATION seconds per measurement, default 5; BENCH_CONNECTIONS 64)
//   node bench/reverse-proxy.mjs cpu  (CPU µs per request of each Node proxy: steadier on a busy machine)
//
// Prints req/s, p50/p99 and the ratio against http-proxy for autocannon and wrk, then each proxy's peak
// RSS under load. Stops everything it started (by PID) before exiting.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  cpuSecondsOf,
  hasCommand,
  measure,
  measureWrk,
  printTable,
  rssMBOf,
  startProcess,
  stopAll,
} from './lib/harness.mjs'

const SELF = fileURLToPath(import.meta.url)
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)

// ---- child roles ---------------------------------------------------------------------------------------
async function serve(app) {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address()
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, port })}\n`)
  const stop = () => app.close().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

async function role(name, upstreams) {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false })
  if (name === 'http-proxy') {
    const { default: httpProxy } = await import('@fastify/http-proxy')
    await app.register(httpProxy, { upstream: upstreams[0] })
  } else {
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
    await app.register(reverseProxy, { routes: [{ upstreams, healthCheck }] })
  }
  await serve(app)
}

// ---- nginx and haproxy ---------------------------------------------------------------------------------
async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

async function waitForPort(port, ms = 15_000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1')
      c.once('connect', () => {
        c.destroy()
        resolve(true)
      })
      c.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listened on ${port} within ${ms} ms`)
}

function external(cmd, args, port) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  let exited = false
  const exit = new Promise((resolve) =>
    child.once('exit', () => {
      exited = true
      resolve()
    }),
  )
  return waitForPort(port).then(() => ({
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    async stop() {
      if (exited) return
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exit
      clearTimeout(t)
    },
  }))
}

async function startNginx(dir, upstreamPort) {
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log crit;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream origin { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  )
  return external('/usr/sbin/nginx', ['-c', conf, '-p', dir], port)
}

async function startHaproxy(dir, upstreamPort) {
  const port = await freePort()
  const conf = join(dir, 'haproxy.cfg')
  writeFileSync(
    conf,
    `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend f
  bind 127.0.0.1:${port}
  default_backend b
backend b
  http-reuse always
  server s1 127.0.0.1:${upstreamPort}
`,
  )
  return external('/usr/sbin/haproxy', ['-f', conf, '-db'], port)
}

// ---- the run -------------------------------------------------------------------------------------------
async function main() {
  const started = []
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-rp-bench-'))
  spawnSync('chmod', ['a+rwx', dir])
  try {
    const o1 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    const o2 = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(o1, o2)
    const targets = [{ name: 'direct', url: o1.url, pid: null }]
    for (const name of ['http-proxy', 'ours-1', 'ours-1+ac+cache', 'ours-2+health']) {
      const ups = name === 'ours-2+health' ? [o1.url, o2.url] : [o1.url]
      const p = await startProcess(SELF, ['role', name, ...ups])
      started.push(p)
      targets.push({ name, url: p.url, pid: p.pid })
    }
    if (hasCommand('/usr/sbin/nginx')) {
      const p = await startNginx(dir, o1.port)
      started.push(p)
      targets.push({ name: 'nginx', url: p.url, pid: p.pid })
    }
    if (hasCommand('/usr/sbin/haproxy')) {
      const p = await startHaproxy(dir, o1.port)
      started.push(p)
      targets.push({ name: 'haproxy', url: p.url, pid: p.pid })
    }
    const ac = []
    const wrk = []
    const rss = []
    for (const t of targets) {
      // Warm-up (JIT, pools), then the measured runs; RSS is sampled while autocannon runs.
      await measure({ name: t.name, url: `${t.url}/`, duration: 1, connections: CONNECTIONS })
      let peak = 0
      const timer = t.pid === null ? null : setInterval(() => (peak = Math.max(peak, rssMBOf(t.pid))), 100)
      const cpu0 = t.pid === null ? 0 : cpuSecondsOf(t.pid)
      const r = await measure({
        name: t.name,
        url: `${t.url}/`,
        duration: DURATION,
        connections: CONNECTIONS,
      })
      ac.push(r)
      if (timer !== null) clearInterval(timer)
      // CPU time per request barely moves with what else the machine runs, unlike req/s.
      const cpuUs = t.pid === null ? Number.NaN : ((cpuSecondsOf(t.pid) - cpu0) * 1e6) / (r.rps * DURATION)
      if (t.pid !== null) rss.push({ name: t.name, peak, cpuUs })
      wrk.push(
        await measureWrk({ name: t.name, url: `${t.url}/`, duration: DURATION, connections: CONNECTIONS }),
      )
    }
    console.log(`# reverse proxy, GET 100 B, ${CONNECTIONS} connections, ${DURATION} s per run`)
    printTable('autocannon', ac, 'http-proxy')
    if (wrk.some(Boolean)) printTable('wrk (1 thread)', wrk, 'http-proxy')
    console.log('\nper proxy process, during the autocannon run: peak RSS (MB), CPU per request (µs)')
    for (const r of rss)
      console.log(
        `  ${r.name.padEnd(18)} ${r.peak.toFixed(1).padStart(7)} MB ${r.cpuUs.toFixed(0).padStart(6)} µs/req`,
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

if (process.argv[2] === 'role') await role(process.argv[3], process.argv.slice(4))
else if (process.argv[2] === 'cpu') await cpuOnly()
else await main()
