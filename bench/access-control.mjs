#!/usr/bin/env node
// Access-control benchmark: the per-request cost of @proxykit/access-control with 10 and 10,000 rules,
// side by side with no access control, in one run, each server a child process on loopback.
//
//   node bench/access-control.mjs     (BENCH_DURATION=seconds per run, default 6; BENCH_CONNECTIONS=64;
//                                      BENCH_ROUNDS=2: the variants run interleaved, best run reported)
//
// Scenarios:
//   plain     a Fastify route answering 100 bytes: the strictest view (nothing else to hide the cost)
//   forward   absolute-form `GET http://127.0.0.1:ORIGIN/` through @proxykit/forward-proxy
// Rule sets (one rule per entry, the hard case for a linear scan), none matching the benchmark request
// until the last one, which allows:
//   10        4 domain rules, 4 client-CIDR rules, 1 destination-CIDR rule, allow
//   10000     3,333 domain rules (`.blockedN.example`), 3,333 client-CIDR rules (`10.x.y.0/24`),
//             3,333 destination-CIDR rules (`172.16.x.y/32`), allow
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SELF = fileURLToPath(import.meta.url)
const BODY = 'x'.repeat(100)

function rules(count) {
  if (count === 0) return null
  const out = []
  const each = Math.max(1, Math.floor((count - 1) / 3))
  for (let i = 0; i < each; i++) out.push({ action: 'deny', hosts: [`.blocked${i}.example`] })
  for (let i = 0; i < each; i++)
    out.push({ action: 'deny', clients: [`10.${(i >> 8) & 255}.${i & 255}.0/24`] })
  for (let i = 0; i < each && out.length < count - 1; i++)
    out.push({ action: 'deny', destinations: [`172.16.${(i >> 8) & 255}.${i & 255}/32`] })
  out.push({ name: 'allow-rest', action: 'allow' })
  return out
}

// ---- child roles ---------------------------------------------------------------------------------------
async function runOrigin() {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length })
    res.end(BODY)
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
}

async function runApp(kind, ruleCount) {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 })
  const list = rules(ruleCount)
  if (list !== null) {
    const { default: accessControl } = await import('@proxykit/access-control')
    await app.register(accessControl, { rules: list })
  }
  if (kind === 'forward') {
    const { default: forwardProxy } = await import('@proxykit/forward-proxy')
    await app.register(forwardProxy, { allow: ['loopback'] })
  } else {
    app.get('/*', (_request, reply) => {
      reply.type('text/plain').send(BODY)
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`)
}

// ---- in-process: the hook's own cost, by difference (fastify.inject, no sockets) ---------------------
async function runMicro() {
  const { default: Fastify } = await import('fastify')
  const { default: accessControl } = await import('@proxykit/access-control')
  const apps = []
  for (const n of [0, 10, 10_000]) {
    const app = Fastify({ logger: false })
    if (n > 0) await app.register(accessControl, { rules: rules(n) })
    app.get('/*', (_request, reply) => {
      reply.send(BODY)
    })
    await app.ready()
    apps.push({ n, app, best: Number.POSITIVE_INFINITY })
  }
  const request = { method: 'GET', url: '/api/items?page=2', headers: { host: 'www.example.org' } }
  const count = Number(process.env.BENCH_MICRO_REQUESTS ?? 20_000)
  for (let round = 0; round < 5; round++) {
    for (const a of apps) {
      const start = performance.now()
      for (let i = 0; i < count; i++) await a.app.inject(request)
      a.best = Math.min(a.best, ((performance.now() - start) * 1000) / count)
    }
  }
  console.log(`\nin-process: fastify.inject, ${count} requests per run, best of 5 interleaved rounds`)
  console.log('| variant | µs per request | access-control cost µs |')
  console.log('| --- | ---: | ---: |')
  for (const a of apps) {
    const extra = a.n === 0 ? '-' : (a.best - apps[0].best).toFixed(2)
    console.log(`| ${a.n === 0 ? 'no access control' : `${a.n} rules`} | ${a.best.toFixed(2)} | ${extra} |`)
  }
  for (const a of apps) await a.app.close()
}

// ---- load --------------------------------------------------------------------------------------------
async function nodeChild(args) {
  const child = spawn(process.execPath, [SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(child.stdout, 'data')
  return { child, port: JSON.parse(line.toString()).port }
}

async function autocannonRun(port, path, connections, duration) {
  const { default: autocannon } = await import('autocannon')
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    requests: [{ method: 'GET', path }],
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  }
}

function wrkRun(dir, port, path, connections, duration) {
  const script = join(dir, `wrk-${port}.lua`)
  writeFileSync(script, `wrk.path = "${path}"\n`)
  const out =
    spawnSync(
      '/usr/bin/wrk',
      ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', '-s', script, `http://127.0.0.1:${port}/`],
      { encoding: 'utf8' },
    ).stdout ?? ''
  const ms = (label) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
    if (!m) return 0
    const v = Number(m[1])
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
  }
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: ms('50'),
    p99: ms('99'),
    errors: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  }
}

function table(title, rows) {
  console.log(`\n${title}`)
  console.log('| variant | tool | req/s | p50 ms | p99 ms | errors | vs none |')
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
  for (const r of rows) {
    console.log(
      `| ${r.variant} | ${r.tool} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${r.ratio} |`,
    )
  }
}

async function main() {
  const duration = Number(process.env.BENCH_DURATION ?? 6)
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 64)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
  const hasWrk = existsSync('/usr/bin/wrk')
  const tools = hasWrk ? ['autocannon', 'wrk'] : ['autocannon']
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-bench-access-'))
  const children = []
  const stopAll = () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGTERM')
  }
  process.on('exit', stopAll)
  try {
    if (process.env.BENCH_MICRO !== '0') await runMicro()
    const origin = await nodeChild(['--origin'])
    children.push(origin)
    const variants = [0, 10, 10_000]
    for (const kind of ['plain', 'forward']) {
      const path = kind === 'forward' ? `http://127.0.0.1:${origin.port}/` : '/api/items?page=2'
      const servers = []
      for (const n of variants) {
        const s = await nodeChild(['--app', kind, String(n)])
        children.push(s)
        servers.push({ n, ...s })
      }
      const best = new Map()
      for (let round = 0; round < rounds; round++) {
        for (const tool of tools) {
          for (const s of servers) {
            // a short warm-up so the JIT has seen the path before the measured run
            await autocannonRun(s.port, path, connections, 1)
            const r =
              tool === 'wrk'
                ? wrkRun(dir, s.port, path, connections, duration)
                : await autocannonRun(s.port, path, connections, duration)
            const key = `${tool}:${s.n}`
            if (!best.has(key) || best.get(key).rps < r.rps) best.set(key, r)
          }
        }
      }
      const rows = []
      for (const tool of tools) {
        const base = best.get(`${tool}:0`).rps
        for (const n of variants) {
          const r = best.get(`${tool}:${n}`)
          const ratio = n === 0 ? '1.000' : (r.rps / base).toFixed(3)
          rows.push({ variant: n === 0 ? 'no access control' : `${n} rules`, tool, ratio, ...r })
        }
      }
      table(
        `${kind} (${connections} connections, ${duration} s per run, best of ${rounds} interleaved rounds)`,
        rows,
      )
      for (const s of servers) s.child.kill('SIGTERM')
    }
  } finally {
    stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

const [role, ...args] = process.argv.slice(2)
if (role === '--origin') await runOrigin()
else if (role === '--app') await runApp(args[0], Number(args[1]))
else await main()
