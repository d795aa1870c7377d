#!/usr/bin/env node
// Access-control benchmark: the per-request cost of @proxykit/access-control with 10 and 10,000 rules,
// side by side with no access control, in one run, on loopback.
//
//   node bench/access-control.mjs     (BENCH_DURATION=seconds per run, default 3; BENCH_CONNECTIONS=64;
//                                      BENCH_ROUNDS=9 paired rounds, medians reported; BENCH_TOOLS=wrk
//                                      (default: wrk when installed, else autocannon; or "autocannon,wrk");
//                                      BENCH_KINDS=plain,forward; BENCH_INSTRUCTIONS=0 skips the callgrind
//                                      count of instructions per request, which takes ~8 minutes)
//
// Scenarios:
//   plain     a Fastify route answering 100 bytes: the strictest view (nothing else to hide the cost)
//   forward   absolute-form `GET http://127.0.0.1:ORIGIN/` through @proxykit/forward-proxy
// Variants: no access control (the baseline: for `plain`, no proxykit plugin at all), the same again as an
// A/A control (its ratio is the run's resolution), for `plain` core's context alone (which every proxykit
// plugin installs), 10 rules, 10,000 rules. All variants are apps of one child process, each on its own
// port, measured one at a time in paired rounds (see main); servers and wrk are pinned to a core each.
// Last, each plain variant's user-space instructions per request under callgrind (lib/instructions.mjs),
// with one more for reference: an app with an empty onRequest hook, what Fastify itself charges for one.
// Besides req/s, the child reports the CPU time it spent (process.cpuUsage over the run, through IPC):
// CPU µs per request is what the rules cost even when other processes share the cores and throughput
// figures swing; "capacity" = baseline CPU per request / variant CPU per request.
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
import { hasCallgrind, instructionsPerRequest } from './lib/instructions.mjs'
import { pinnedCommand } from './lib/pin.mjs'

const SELF = fileURLToPath(import.meta.url)
const BODY = 'x'.repeat(100)
const PLAIN_PATH = '/api/items?page=2'

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

async function buildApp(kind, ruleCount) {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 })
  const list = rules(Math.max(0, ruleCount))
  if (ruleCount === -1) {
    const { proxyContext } = await import('@proxykit/core')
    await app.register(proxyContext)
  }
  // -2: an empty onRequest hook, for what Fastify itself charges for a hook
  if (ruleCount === -2) app.addHook('onRequest', (_request, _reply, done) => done())
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
  return app.server.address().port
}

// Every variant in one process, each its own Fastify app on its own port, measured one at a time: separate
// processes differ from each other by up to ±10% here (an A/A run of identical servers shows it), which
// is more than the cost being measured; in one process they share the runtime and only the plugin differs.
async function runApps(kind, counts) {
  process.on('message', () => process.send(process.cpuUsage()))
  const ports = []
  for (const n of counts) ports.push(await buildApp(kind, n))
  process.stdout.write(`${JSON.stringify({ ports })}\n`)
}

// ---- in-process: the decision alone (Policy.evaluate), robust to other load on the machine ------------
async function runEvaluate() {
  const { Policy } = await import('@proxykit/access-control')
  const { parseIp } = await import('@proxykit/core')
  const policies = [10, 10_000].map((n) => {
    const start = performance.now()
    const policy = new Policy(rules(n), 'deny')
    return { n, policy, compileMs: performance.now() - start }
  })
  const base = {
    form: 'absolute',
    client: parseIp('192.0.2.7'),
    user: null,
    groups: [],
    method: 'GET',
    port: 80,
    path: '/',
  }
  const cases = [
    ['name target', { ...base, host: 'www.example.org', address: 'unknown' }],
    ['address target', { ...base, host: '198.51.100.7', address: parseIp('198.51.100.7') }],
    ['blocked domain', { ...base, host: 'a.blocked3.example', address: 'unknown' }],
  ]
  console.log('\nPolicy.evaluate (one decision), best of 5 runs of 200,000')
  console.log(`| rules | compile ms | ${cases.map(([c]) => `${c} µs`).join(' | ')} |`)
  console.log(`| ---: | ---: | ${cases.map(() => '---:').join(' | ')} |`)
  for (const { n, policy, compileMs } of policies) {
    const cells = cases.map(([, facts]) => {
      let best = Number.POSITIVE_INFINITY
      for (let round = 0; round < 5; round++) {
        const start = performance.now()
        for (let i = 0; i < 200_000; i++) policy.evaluate(facts)
        best = Math.min(best, ((performance.now() - start) * 1000) / 200_000)
      }
      return best.toFixed(3)
    })
    console.log(`| ${n} | ${compileMs.toFixed(0)} | ${cells.join(' | ')} |`)
  }
}

// ---- in-process: the hook's own cost, by difference (fastify.inject, no sockets) ---------------------
async function runMicro() {
  const { default: Fastify } = await import('fastify')
  const { default: accessControl } = await import('@proxykit/access-control')
  const { proxyContext } = await import('@proxykit/core')
  const apps = []
  for (const n of [0, 10, 10_000]) {
    const app = Fastify({ logger: false })
    if (n > 0) await app.register(accessControl, { rules: rules(n) })
    else await app.register(proxyContext)
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
    console.log(`| ${a.n === 0 ? 'core context only' : `${a.n} rules`} | ${a.best.toFixed(2)} | ${extra} |`)
  }
  for (const a of apps) await a.app.close()
}

/** The child's CPU time so far, in µs: `{ user, system }`. */
async function cpuOf(child) {
  child.send('cpu')
  const [usage] = await once(child, 'message')
  return usage
}

// ---- instructions per request (callgrind): the resolution the req/s figures lack here --------------------
// Each variant alone in a process under valgrind, one at a time (two at once made the windows spread: see
// lib/instructions.mjs for the method and what the count leaves out).
async function runInstructions(dir, kind, variants, path, userShare) {
  const results = new Map()
  for (const n of variants) {
    const r = await instructionsPerRequest({
      dir,
      tag: `${kind}${n}`,
      script: SELF,
      args: ['--apps', kind, String(n)],
      path,
    })
    results.set(n, r)
  }
  const base = results.get(0).perRequest
  console.log(
    `\n${kind}: user-space instructions per request (callgrind: 6,000 requests to warm up, one window of ` +
      '3,000 thrown away, then the median of 8 windows of 3,000)',
  )
  console.log('| variant | instructions/request | added vs none | added, % of none | every window |')
  console.log('| --- | ---: | ---: | ---: | --- |')
  for (const n of variants) {
    const { perRequest: v, perWindow } = results.get(n)
    const name =
      n === 0
        ? 'no access control (base)'
        : n === -1
          ? 'core context only'
          : n === -2
            ? 'an empty onRequest hook (Fastify, for reference)'
            : `${n} rules`
    const added = n === 0 ? '-' : Math.round(v - base)
    const pct = n === 0 ? '-' : `${(((v - base) / base) * 100).toFixed(1)}%`
    console.log(
      `| ${name} | ${Math.round(v)} | ${added} | ${pct} | ${perWindow.map(Math.round).join(', ')} |`,
    )
  }
  const pct = ((results.get(10_000).perRequest - base) / base) * 100
  const vs10 =
    ((results.get(10_000).perRequest - results.get(10).perRequest) / results.get(10).perRequest) * 100
  const note =
    userShare > 0
      ? `; user space was ${(userShare * 100).toFixed(0)}% of the base's CPU time under wrk in this run, so ` +
        `about ${(pct * userShare).toFixed(1)}% of all the CPU time of a request`
      : ''
  console.log(
    `${kind}: 10,000 rules vs no access control: +${pct.toFixed(1)}% user-space instructions per request${note}` +
      ` (target: under 5% of throughput); 10,000 rules vs 10 rules: ${vs10 >= 0 ? '+' : ''}${vs10.toFixed(1)}%`,
  )
}

// ---- load --------------------------------------------------------------------------------------------
async function nodeChild(args) {
  const [cmd, argv] = pinnedCommand('server', process.execPath, [SELF, ...args])
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  const [line] = await once(child.stdout, 'data')
  const { port, ports } = JSON.parse(line.toString())
  return { child, port, ports }
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
    total: result.requests.total,
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
      ...pinnedCommand('load', '/usr/bin/wrk', [
        '-t1',
        `-c${connections}`,
        `-d${duration}s`,
        '--latency',
        '-s',
        script,
        `http://127.0.0.1:${port}/`,
      ]),
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
    total: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    p50: ms('50'),
    p99: ms('99'),
    errors: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  }
}

function table(title, rows) {
  console.log(`\n${title}`)
  console.log(
    '| variant | tool | req/s | p50 ms | p99 ms | errors | req/s vs base | CPU µs/req | capacity vs base |',
  )
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const r of rows) {
    console.log(
      `| ${r.variant} | ${r.tool} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${r.ratio} | ${r.cpu.toFixed(1)} | ${r.capacity} |`,
    )
  }
}

async function main() {
  const duration = Number(process.env.BENCH_DURATION ?? 3)
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 64)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 9)
  const hasWrk = existsSync('/usr/bin/wrk')
  // wrk by default: autocannon generates load from a Node process that needs a core of its own, which
  // on a 2-core machine takes it from the server being measured.
  const tools = (process.env.BENCH_TOOLS ?? (hasWrk ? 'wrk' : 'autocannon'))
    .split(',')
    .filter((t) => t === 'autocannon' || (t === 'wrk' && hasWrk))
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-bench-access-'))
  const children = []
  const stopAll = () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGTERM')
  }
  process.on('exit', stopAll)
  const userShares = new Map()
  try {
    if (process.env.BENCH_MICRO !== '0') {
      await runEvaluate()
      await runMicro()
    }
    const origin = await nodeChild(['--origin'])
    children.push(origin)
    for (const kind of (process.env.BENCH_KINDS ?? 'plain,forward').split(',').filter(Boolean)) {
      // 0: no access control (for `plain`, no proxykit plugin at all: the baseline the target is stated
      // against); -1: core's context alone, which every proxykit plugin installs (shown for reference)
      // The second 0 is an A/A control: an identical app, so its ratio shows the run's resolution.
      const variants = process.env.BENCH_VARIANTS
        ? process.env.BENCH_VARIANTS.split(',').map(Number)
        : kind === 'plain'
          ? [0, 0, -1, 10, 10_000]
          : [0, 0, 10, 10_000]
      const baseline = 0
      const path = kind === 'forward' ? `http://127.0.0.1:${origin.port}/` : PLAIN_PATH
      const servers = []
      const apps = await nodeChild(['--apps', kind, variants.join(',')])
      children.push(apps)
      for (const [i, n] of variants.entries())
        servers.push({
          n: variants.indexOf(n) === i ? n : `${n}#${i}`,
          child: apps.child,
          port: apps.ports[i],
        })
      // Paired rounds: every round measures each variant back to back (in a rotating order, so none is
      // always first), and a variant's ratio is taken against the baseline of the same round. On a shared
      // machine whole rounds drift by 10-30%; the ratio within one round moves far less. The median ratio
      // over the rounds is the figure reported, with the spread beside it.
      const samples = new Map()
      for (let round = 0; round < rounds; round++) {
        for (const tool of tools) {
          const order = servers.map((_, i) => servers[(i + round) % servers.length])
          const measured = new Map()
          for (const s of order) {
            // a short warm-up so the JIT has seen the path before the measured run
            if (tool === 'wrk') wrkRun(dir, s.port, path, connections, 1)
            else await autocannonRun(s.port, path, connections, 1)
            const cpu0 = await cpuOf(s.child)
            const r =
              tool === 'wrk'
                ? wrkRun(dir, s.port, path, connections, duration)
                : await autocannonRun(s.port, path, connections, duration)
            const cpu1 = await cpuOf(s.child)
            const user = cpu1.user - cpu0.user
            const system = cpu1.system - cpu0.system
            r.cpu = r.total > 0 ? (user + system) / r.total : 0
            r.userShare = user + system > 0 ? user / (user + system) : 0
            measured.set(s.n, r)
          }
          const base = measured.get(baseline)
          for (const [n, r] of measured) {
            const key = `${tool}:${n}`
            if (!samples.has(key)) samples.set(key, [])
            samples.get(key).push({ ...r, ratio: r.rps / base.rps, capacity: base.cpu / r.cpu })
          }
        }
      }
      const median = (list) => {
        const v = [...list].sort((a, b) => a - b)
        return v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
      }
      const rows = []
      const names = {
        0: 'no access control',
        '0#1': 'no access control, again (A/A control)',
        '-1': 'core context only',
      }
      for (const tool of tools) {
        for (const n of servers.map((x) => x.n)) {
          const list = samples.get(`${tool}:${n}`)
          const ratios = list.map((x) => x.ratio)
          const variant = names[n] ?? `${n} rules`
          rows.push({
            variant: n === baseline ? `${variant} (base)` : variant,
            tool,
            rps: median(list.map((x) => x.rps)),
            p50: median(list.map((x) => x.p50)),
            p99: median(list.map((x) => x.p99)),
            errors: list.reduce((a, x) => a + x.errors, 0),
            ratio: `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
            cpu: median(list.map((x) => x.cpu)),
            capacity: median(list.map((x) => x.capacity)).toFixed(3),
          })
        }
      }
      table(
        `${kind} (${connections} connections, ${duration} s per run, ${rounds} paired rounds: medians, ratio range in brackets)`,
        rows,
      )
      const tool = tools[tools.length - 1]
      const row = (v) => rows.find((r) => r.tool === tool && r.variant === v)
      if (row('10000 rules') !== undefined)
        console.log(
          `${kind}: 10,000 rules vs no access control (${tool}, median of paired rounds) = ${row('10000 rules').ratio}` +
            ` (target >= 0.95); the A/A control, an identical app, came out at ${row(names['0#1']).ratio}`,
        )
      const baseSamples = samples.get(`${tools[tools.length - 1]}:${baseline}`) ?? []
      userShares.set(kind, median(baseSamples.map((x) => x.userShare)))
      apps.child.kill('SIGTERM')
    }
    if (process.env.BENCH_INSTRUCTIONS !== '0' && hasCallgrind()) {
      await runInstructions(dir, 'plain', [0, -2, -1, 10, 10_000], PLAIN_PATH, userShares.get('plain') ?? 0)
    }
  } finally {
    stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

const [role, ...args] = process.argv.slice(2)
if (role === '--origin') await runOrigin()
else if (role === '--apps') await runApps(args[0], args[1].split(',').map(Number))
else await main()
