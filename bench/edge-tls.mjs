#!/usr/bin/env node
// Issue 22's benchmark: the gateway's TLS reverse listener beside nginx doing the same (one worker each,
// the same ECDSA P-256 certificate, the same origin, access logs off), on loopback:
//
//   keepalive    wrk, HTTPS HTTP/1.1, 1 thread, 50 connections                 req/s (target: 0.5x nginx)
//   h2           h2load, 10 connections x 100 streams                          req/s (target: 0.5x nginx)
//   handshakes   wrk with `Connection: close`: a full handshake per request (wrk never resumes a session;
//                nginx runs with its session cache and tickets off)          per second (target: 0.8x nginx)
//   speed        `openssl speed ecdsap256` on the servers' core: the signatures per second one core can do,
//                the ceiling of new handshakes
//   idle RSS     1,000 idle TLS connections held open by this process: RSS before and with them
//
// Each req/s scenario is BENCH_PAIRS (default 6) pairs of BENCH_PAIR_SECONDS (default 3) runs, the gateway
// and nginx alternating which goes first (lib/pairs.mjs), both servers started once and warmed up: the
// figure is the median of the pairs' gateway/nginx ratios, with their range, so that the machine's speed
// drifting over the minutes of a run moves it far less than one long run per server did. Beside req/s,
// each server's CPU time per request (its process's user + system CPU seconds over the run, from /proc,
// divided by the requests the load generator completed): what the load generator's and the origin's
// share of the machine move least, so that a run on a busy machine still compares the servers' own costs.
//
//   node bench/edge-tls.mjs   (BENCH_PAIRS, BENCH_PAIR_SECONDS; BENCH_SCENARIOS=keepalive,h2,handshakes
//                              picks; BENCH_IDLE=0 skips the idle-connection RSS, BENCH_SPEED=0 openssl speed)
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import { BIN, freePort, makeTempDir, startExternal, startNginx } from './lib/external.mjs'
import { hasCommand, measureWrk, rssMBOf, startProcess, stopAll } from './lib/harness.mjs'
import { alternatingPairs, summarizePairs } from './lib/pairs.mjs'
import { PINNING, pinLoadSide, pinningNote, pinServer } from './lib/pin.mjs'

const PAIRS = Number(process.env.BENCH_PAIRS ?? 6)
const SECONDS = Number(process.env.BENCH_PAIR_SECONDS ?? 3)
const CLI = fileURLToPath(new URL('../apps/gateway/dist/src/cli.js', import.meta.url))
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const IDLE = 1000
const CONNECTIONS = 50

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
  const started = await startExternal(process.execPath, [CLI, '--config', file], port)
  return { ...started, url: `https://127.0.0.1:${port}` }
}

/** One wrk run (HTTPS, one thread, CONNECTIONS connections): `{ rps, cpuUs, done, errors, non2xx }`. */
async function wrk(server, seconds, headers = {}) {
  const r = await measureWrk({
    name: 'x',
    url: `${server.url}/`,
    connections: CONNECTIONS,
    duration: seconds,
    headers,
    server,
    warmup: 0,
  })
  return {
    rps: r.rps,
    cpuUs: r.cpuMsPerReq === undefined ? Number.NaN : r.cpuMsPerReq * 1000,
    done: r.requests ?? 0,
    errors: r.errors,
    non2xx: r.non2xx,
  }
}

// h2load runs a count of requests (-n), not a duration: in its timed mode (-D) one client whose
// connection came up late kept sending after the others stopped, and the run never ended (seen with the
// gateway on a busy machine). The count is the server's last rate times the seconds asked for.
async function h2load(server, count) {
  const before = server.cpuSeconds()
  const child = spawnSync('h2load', ['-c10', '-m100', '-t1', '-n', String(count), `${server.url}/`], {
    encoding: 'utf8',
    timeout: 300_000,
  })
  const used = server.cpuSeconds() - before
  const out = child.stdout ?? ''
  const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)
  const proto = /Application protocol: (\S+)/.exec(out)
  const ok = /(\d+) succeeded, (\d+) failed/.exec(out)
  const done = Number(ok?.[1] ?? 0)
  return {
    rps: rps === null ? 0 : Number(rps[1]),
    cpuUs: done > 0 ? (used / done) * 1e6 : Number.NaN,
    done,
    protocol: proto?.[1] ?? '?',
    errors: ok === null ? -1 : Number(ok[2]),
    non2xx: 0,
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

const SCENARIOS = {
  keepalive: {
    title: 'HTTPS keep-alive HTTP/1.1 (wrk -c50), req/s',
    target: 0.5,
    run: (server) => wrk(server, SECONDS),
  },
  h2: {
    title: 'HTTP/2 (h2load -c10 -m100), req/s',
    target: 0.5,
    // At least 10,000 requests, so that the ten connections' start and end weigh little.
    run: (server, rate) => h2load(server, Math.max(10_000, Math.round(rate * SECONDS))),
  },
  handshakes: {
    title: 'new TLS handshakes/s (wrk Connection: close)',
    target: 0.8,
    run: (server) => wrk(server, SECONDS, { Connection: 'close' }),
  },
}

const fmt = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '?'

async function main() {
  for (const cmd of ['wrk', 'h2load', 'openssl', BIN.nginx])
    if (!hasCommand(cmd)) throw new Error(`${cmd} is needed (apt install wrk nghttp2-client openssl nginx)`)
  const names = (process.env.BENCH_SCENARIOS ?? 'keepalive,h2,handshakes').split(',')
  for (const name of names) if (SCENARIOS[name] === undefined) throw new Error(`unknown scenario ${name}`)
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
  const started = []
  try {
    const origin = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(origin)
    console.log(
      `# edge-tls: ${new Date().toISOString()}, ${PAIRS} pairs of ${SECONDS} s runs per scenario, ` +
        `order alternating; ${pinningNote()}`,
    )
    const speed = process.env.BENCH_SPEED === '0' ? null : opensslSpeed()
    if (speed !== null)
      console.log(`openssl speed ecdsap256 (one core): ${speed.sign} sign/s, ${speed.verify} verify/s`)
    const servers = {
      gateway: await startGateway(dir, origin.url, cert, key),
      nginx: await startNginx(dir, origin.port, { tls: { cert, key } }),
    }
    started.push(...Object.values(servers))
    const rssStart = {}
    // Each server's last req/s in the scenario running (h2load's count for the next run: see h2load()).
    const rate = {}
    for (const [who, server] of Object.entries(servers)) {
      pinServer(server.pid)
      // Warm-up (JIT, pools, the upstream connections), unmeasured.
      await wrk(server, 2)
      rate[who] = (await h2load(server, 10_000)).rps
      rssStart[who] = rssMBOf(server.pid)
    }
    const rows = []
    for (const name of names) {
      const scenario = SCENARIOS[name]
      const runs = await alternatingPairs(
        PAIRS,
        ['gateway', 'nginx'],
        async (who) => {
          const r = await scenario.run(servers[who], rate[who])
          if (name === 'h2' && r.rps > 0) rate[who] = r.rps
          return r
        },
        (i, r) =>
          console.log(
            `  ${name} pair ${i + 1}: gateway ${fmt(r.gateway.rps)} req/s ${fmt(r.gateway.cpuUs)} µs/req, ` +
              `nginx ${fmt(r.nginx.rps)} req/s ${fmt(r.nginx.cpuUs)} µs/req: ${(r.gateway.rps / r.nginx.rps).toFixed(2)}x` +
              (r.gateway.protocol === undefined ? '' : ` (${r.gateway.protocol}, ${r.nginx.protocol})`) +
              (r.gateway.errors + r.nginx.errors + r.gateway.non2xx + r.nginx.non2xx > 0
                ? `; errors+non2xx gateway ${r.gateway.errors + r.gateway.non2xx}, nginx ${r.nginx.errors + r.nginx.non2xx}`
                : ''),
          ),
      )
      rows.push({ name, scenario, s: summarizePairs(runs) })
    }
    const idle = {}
    if (process.env.BENCH_IDLE !== '0')
      for (const [who, server] of Object.entries(servers)) {
        const base = rssMBOf(server.pid)
        const sockets = await openIdle(server.port, IDLE)
        await new Promise((res) => setTimeout(res, 1500))
        idle[who] = { base, with: rssMBOf(server.pid) }
        for (const s of sockets) s.destroy()
      }

    const range = (x, digits = 2) => `${fmt(x.median, digits)}x (${fmt(x.min, digits)}-${fmt(x.max, digits)})`
    const side = (x) =>
      `${fmt(x.rps.median)} req/s, ${fmt(x.cpuUs.median)} µs/req (${fmt(x.cpuUs.min)}-${fmt(x.cpuUs.max)})`
    console.log(
      `\n| scenario (medians over ${PAIRS} pairs) | gateway | nginx | gateway / nginx req/s, median (range) | nginx / gateway CPU per request | target |`,
    )
    console.log('| --- | --- | --- | ---: | ---: | --- |')
    for (const { scenario, s } of rows)
      console.log(
        `| ${scenario.title} | ${side(s.gateway)} | ${side(s.nginx)} | ${range(s.ratio)} | ${range(s.cpuRatio)} | ` +
          `>= ${scenario.target}x: ${s.ratio.median >= scenario.target ? 'met' : 'not met'} |`,
      )
    const hs = rows.find((r) => r.name === 'handshakes')
    if (speed !== null && hs !== undefined)
      console.log(
        `| handshakes / openssl speed ecdsap256 sign/s (${speed.sign}) | ${(hs.s.gateway.rps.median / speed.sign).toFixed(3)} | ${(hs.s.nginx.rps.median / speed.sign).toFixed(3)} | | | |`,
      )
    const mb = (x) => (Number.isFinite(x) ? x.toFixed(1) : '?')
    if (idle.gateway !== undefined)
      console.log(
        `| RSS MB: after warm-up; before, then with ${IDLE} idle TLS connections | ${mb(rssStart.gateway)}; ${mb(idle.gateway.base)} → ${mb(idle.gateway.with)} | ${mb(rssStart.nginx)}; ${mb(idle.nginx.base)} → ${mb(idle.nginx.with)} | | | |`,
      )
  } finally {
    await stopAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
  process.exit(0)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
