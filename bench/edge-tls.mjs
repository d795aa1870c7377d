#!/usr/bin/env node
// Issue 22's benchmark: the gateway's TLS reverse listener beside nginx doing the same (one worker each,
// the same ECDSA P-256 certificate, the same origin, access logs off), on loopback:
//
//   keep-alive   wrk, HTTPS HTTP/1.1, 1 thread, 50 connections                 req/s (target: 0.5x nginx)
//   h2           h2load, 10 connections x 100 streams, about BENCH_DURATION s   req/s (target: 0.5x nginx)
//   handshakes   wrk with `Connection: close`: a full handshake per request (wrk never resumes a session;
//                nginx runs with its session cache and tickets off)          per second (target: 0.8x nginx)
//   speed        `openssl speed ecdsap256` on the servers' core: the signatures per second one core can do,
//                the ceiling of new handshakes
//   idle RSS     1,000 idle TLS connections held open by this process: RSS before and with them
//
// Beside each req/s figure, the server's CPU time per request (its process's user + system CPU seconds
// over the run, from /proc, divided by the requests the load generator completed): a figure that the
// load generator's and the origin's share of the machine move far less than req/s, so that a run on a
// busy machine still compares the two servers' own costs.
//
//   node bench/edge-tls.mjs          (BENCH_DURATION seconds per run, default 10)
import { execFile, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { BIN, freePort, makeTempDir, startExternal, startNginx } from './lib/external.mjs'
import { cpuSecondsOf, hasCommand, rssMBOf, track } from './lib/harness.mjs'
import { PINNING, pinLoadSide, pinningNote, pinServer } from './lib/pin.mjs'

const run = promisify(execFile)
const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const CLI = fileURLToPath(new URL('../apps/gateway/dist/src/cli.js', import.meta.url))
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const IDLE = 1000

async function startOrigin() {
  const child = spawn(process.execPath, [ORIGIN], { stdio: ['ignore', 'pipe', 'inherit'] })
  track(child)
  const [line] = await once(child.stdout, 'data')
  return { ...JSON.parse(String(line)), pid: child.pid }
}

async function startGateway(dir, originUrl, cert, key) {
  const port = await freePort()
  const file = join(dir, 'gateway.json')
  writeFileSync(
    file,
    JSON.stringify({
      reverse: {
        listen: `127.0.0.1:${port}`,
        tls: { certs: [{ cert, key }] },
        maxConnectionsPerClient: 0,
        clientTimeouts: { header: '60s' },
        routes: [{ prefix: '/', upstreams: [originUrl], passiveHealth: false }],
      },
      log: { access: false, level: 'warn' },
      admin: { listen: '127.0.0.1:0' },
    }),
  )
  return startExternal(process.execPath, [CLI, '--config', file], port)
}

/** Runs `load()` and adds `cpuUs`: the CPU microseconds `pid` used per request it completed (`done`). */
async function withCpu(pid, load) {
  const before = cpuSecondsOf(pid)
  const r = await load()
  const used = cpuSecondsOf(pid) - before
  return { ...r, cpuUs: r.done > 0 ? Math.round((used / r.done) * 1e6) : null }
}

async function wrk(url, extra = []) {
  const { stdout } = await run('wrk', ['-t1', '-c50', `-d${DURATION}s`, ...extra, url], {
    timeout: (DURATION + 60) * 1000,
  })
  const done = /(\d+) requests in/.exec(stdout)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)
  const errors = /Socket errors: (.*)/.exec(stdout)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout)
  return {
    rps: rps === null ? 0 : Number(rps[1]),
    done: Number(done?.[1] ?? 0),
    errors: errors?.[1] ?? null,
    non2xx: Number(non2xx?.[1] ?? 0),
  }
}

// h2load runs a count of requests (-n), not a duration: in its timed mode (-D) one client whose
// connection came up late kept sending after the others stopped, and the run never ended (seen with the
// gateway on a busy machine). The count is what the warm-up run did per second times BENCH_DURATION.
async function h2load(url, count) {
  const { stdout } = await run('h2load', ['-c10', '-m100', '-t1', '-n', String(count), url], {
    timeout: (DURATION * 5 + 60) * 1000,
  })
  const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout)
  const proto = /Application protocol: (\S+)/.exec(stdout)
  const ok = /(\d+) succeeded, (\d+) failed/.exec(stdout)
  return {
    rps: rps === null ? 0 : Number(rps[1]),
    done: Number(ok?.[1] ?? 0),
    protocol: proto?.[1] ?? '?',
    failed: Number(ok?.[2] ?? -1),
  }
}

/** Opens `n` TLS connections (HTTP/1.1 by ALPN, no request) and resolves once all are established. */
async function openIdle(port, n) {
  const sockets = []
  for (let i = 0; i < n; i += 50) {
    const batch = []
    for (let j = i; j < Math.min(n, i + 50); j++) {
      const s = tls.connect({
        host: '127.0.0.1',
        port,
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      })
      s.on('error', () => {})
      sockets.push(s)
      batch.push(once(s, 'secureConnect'))
    }
    await Promise.all(batch)
  }
  return sockets
}

function opensslSpeed() {
  const args = ['speed', '-seconds', '5', 'ecdsap256']
  const r = PINNING
    ? spawnSync('/usr/bin/taskset', ['-c', '1', 'openssl', ...args], { encoding: 'utf8' })
    : spawnSync('openssl', args, { encoding: 'utf8' })
  const m = /256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(r.stdout)
  return m === null ? null : { sign: Number(m[1]), verify: Number(m[2]) }
}

async function main() {
  for (const cmd of ['wrk', 'h2load', 'openssl', BIN.nginx])
    if (!hasCommand(cmd)) throw new Error(`${cmd} is needed (apt install wrk nghttp2-client openssl nginx)`)
  pinLoadSide()
  const dir = makeTempDir('proxykit-edge-')
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    '/CN=bench.test',
    '-addext',
    'subjectAltName=DNS:bench.test',
  ])
  const origin = await startOrigin()
  const results = {}
  console.log(`# edge-tls: ${new Date().toISOString()}, ${DURATION} s per run, ${pinningNote()}`)
  const speed = opensslSpeed()
  console.log(
    `openssl speed ecdsap256 (one core): ${speed?.sign ?? '?'} sign/s, ${speed?.verify ?? '?'} verify/s`,
  )
  for (const [name, start] of [
    ['proxykit-gateway', () => startGateway(dir, origin.url, cert, key)],
    ['nginx', () => startNginx(dir, origin.port, { tls: { cert, key } })],
  ]) {
    const server = await start()
    pinServer(server.pid)
    const url = `https://127.0.0.1:${server.port}/`
    await wrk(url, ['-d2s']) // warm-up (JIT, pools)
    const r = {}
    r.rssBefore = rssMBOf(server.pid)
    r.keepAlive = await withCpu(server.pid, () => wrk(url))
    const h2warm = await h2load(url, 10_000)
    const h2count = Math.min(5_000_000, Math.max(10_000, Math.round(h2warm.rps * DURATION)))
    r.h2 = await withCpu(server.pid, () => h2load(url, h2count))
    r.handshakes = await withCpu(server.pid, () => wrk(url, ['-H', 'Connection: close']))
    const idleBase = rssMBOf(server.pid)
    const sockets = await openIdle(server.port, IDLE)
    await new Promise((res) => setTimeout(res, 1500))
    r.rssIdleBase = idleBase
    r.rssIdle = rssMBOf(server.pid)
    for (const s of sockets) s.destroy()
    await server.stop()
    results[name] = r
    console.log(name, JSON.stringify(r))
  }
  const g = results['proxykit-gateway']
  const n = results.nginx
  const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : '?')
  // CPU per request: nginx's over the gateway's, so that above 0.5 reads as the gateway doing better than
  // half nginx's work rate per core (the req/s target's meaning when the server is the bottleneck).
  const cpu = (k) => `${g[k].cpuUs} µs | ${n[k].cpuUs} µs | ${ratio(n[k].cpuUs, g[k].cpuUs)}x`
  console.log('\n| scenario | proxykit-gateway | nginx | gateway / nginx | target |')
  console.log('| --- | --- | --- | --- | --- |')
  console.log(
    `| HTTPS keep-alive HTTP/1.1 (wrk -c50), req/s | ${g.keepAlive.rps} | ${n.keepAlive.rps} | ${ratio(g.keepAlive.rps, n.keepAlive.rps)}x | 0.5x |`,
  )
  console.log(`| same, server CPU per request (nginx's / gateway's) | ${cpu('keepAlive')} | |`)
  console.log(
    `| HTTP/2 (h2load -c10 -m100), req/s | ${g.h2.rps} (${g.h2.protocol}) | ${n.h2.rps} (${n.h2.protocol}) | ${ratio(g.h2.rps, n.h2.rps)}x | 0.5x |`,
  )
  console.log(`| same, server CPU per request (nginx's / gateway's) | ${cpu('h2')} | |`)
  console.log(
    `| new TLS handshakes/s (wrk Connection: close) | ${g.handshakes.rps} | ${n.handshakes.rps} | ${ratio(g.handshakes.rps, n.handshakes.rps)}x | 0.8x |`,
  )
  console.log(`| same, server CPU per handshake (nginx's / gateway's) | ${cpu('handshakes')} | |`)
  if (speed !== null)
    console.log(
      `| handshakes / openssl speed ecdsap256 sign/s (${speed.sign}) | ${ratio(g.handshakes.rps, speed.sign)} | ${ratio(n.handshakes.rps, speed.sign)} | | |`,
    )
  console.log(
    `| RSS MB: idle, then with ${IDLE} idle TLS connections | ${g.rssIdleBase} → ${g.rssIdle} | ${n.rssIdleBase} → ${n.rssIdle} | | |`,
  )
  rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
