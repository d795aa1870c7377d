#!/usr/bin/env node
// Issue 28's peer ratios: the gateway as the CLI runs it (startOperated: default config, so the access log
// on stdout, metrics, live statistics and the admin listener are on) beside the servers people run today,
// in pairs of short runs back to back, the order alternating, both servers of a pair started afresh every
// BENCH_PAIRS_PER_PROCESS pairs, every server a child process on loopback:
//
//   miss      reverse route with `cache: true`, the origin's answer has no freshness (every request goes
//             upstream), against raw @fastify/http-proxy (bench/reverse-proxy.mjs's role)    target >= 1.8x
//   hit       the same route, the origin answering `max-age=600` (every request a 100 B hit), against
//             Squid as an accelerator (cache_mem, access_log none)                           target >= 1.0x
//   forward   the forward listener, absolute-form GETs, against Squid as a forward proxy
//             (caching off, access_log none)                                                 target >= 1.25x
//   connect   back-to-back GETs inside 64 long-lived CONNECT tunnels (lib/tunnel-load.c), against
//             proxy-chain                                                                    target >= 1.0x
//
//   node bench/gateway-peers.mjs   (BENCH_PAIRS, default 8, of BENCH_PAIR_SECONDS, default 3;
//                                   BENCH_SCENARIOS=miss,hit,forward,connect picks; BENCH_CONNECTIONS 64)
//
// Absolute-form and reverse loads are wrk (one thread); the measured server is pinned to its own CPU
// (lib/pin.mjs). Needs wrk, Squid for `hit` and `forward` (skipped with a note without it) and cc for
// `connect`. The gateway comes from apps/gateway/dist (build it first). Stops everything it started.
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { BIN, makeTempDir, startSquidCache, startSquidForward } from './lib/external.mjs'
import { hasCommand, measureWrk, pairSummary, startProcess, stopAll } from './lib/harness.mjs'
import { pinLoadSide, pinningNote, pinServer } from './lib/pin.mjs'
import { announce } from './lib/role.mjs'
import { buildTunnelLoader, nativeTunnelLoad } from './lib/tunnel.mjs'

const SELF = fileURLToPath(import.meta.url)
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const REVERSE_BENCH = fileURLToPath(new URL('./reverse-proxy.mjs', import.meta.url))
const FORWARD_BENCH = fileURLToPath(new URL('./forward-proxy.mjs', import.meta.url))
const DIST = new URL('../apps/gateway/dist/src/', import.meta.url)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)

// ---- child role: the gateway -----------------------------------------------------------------------------
/** `kind` is `reverse` (one route to `origin`, cache on) or `forward` (CONNECT allowed to `origin`'s port). */
async function gatewayRole(kind, origin) {
  const { resolveConfig } = await import(new URL('index.js', DIST).href)
  const { startOperated } = await import(new URL('ops/run.js', DIST).href)
  const admin = { listen: '127.0.0.1:0' }
  const raw =
    kind === 'forward'
      ? {
          forward: {
            listen: '127.0.0.1:0',
            allow: ['127.0.0.1'],
            connectPorts: [Number(new URL(origin).port)],
          },
          admin,
        }
      : {
          reverse: { listen: '127.0.0.1:0', routes: [{ name: 'r', upstreams: [origin], cache: true }] },
          admin,
        }
  const operated = await startOperated(resolveConfig(raw), { configFile: null })
  announce(operated.gateway.listeners[kind].url, () => operated.close())
}

// ---- the run -----------------------------------------------------------------------------------------------
const SCENARIOS = {
  miss: {
    peer: 'http-proxy',
    target: '>= 1.8x',
    ours: (o) => startProcess(SELF, ['gateway', 'reverse', o.plain.url]),
    theirs: (o) => startProcess(REVERSE_BENCH, ['role', 'http-proxy', o.plain.url]),
    load: (p) => ({ url: `${p.url}/` }),
  },
  hit: {
    peer: 'squid',
    target: '>= 1.0x',
    needs: BIN.squid,
    ours: (o) => startProcess(SELF, ['gateway', 'reverse', o.fresh.url]),
    theirs: (o, dir) => startSquidCache(dir, o.fresh.port),
    load: (p) => ({ url: `${p.url}/` }),
  },
  forward: {
    peer: 'squid',
    target: '>= 1.25x',
    needs: BIN.squid,
    ours: (o) => startProcess(SELF, ['gateway', 'forward', o.plain.url]),
    theirs: (_o, dir) => startSquidForward(dir),
    load: (p, o) => ({ url: `${o.plain.url}/`, proxy: p.url }),
  },
  connect: {
    peer: 'proxy-chain',
    target: '>= 1.0x',
    tunnel: true,
    ours: (o) => startProcess(SELF, ['gateway', 'forward', o.raw.url]),
    theirs: () => startProcess(FORWARD_BENCH, ['--proxy-chain']),
  },
}

async function measureOne(scenario, p, origins, loader, seconds) {
  if (!scenario.tunnel) {
    return measureWrk({
      name: 'x',
      ...scenario.load(p, origins),
      duration: seconds,
      connections: CONNECTIONS,
      warmup: 1,
      server: p,
    })
  }
  await nativeTunnelLoad(loader, p.port, origins.raw.port, CONNECTIONS, 1)
  const before = p.cpuSeconds()
  const r = await nativeTunnelLoad(loader, p.port, origins.raw.port, CONNECTIONS, seconds)
  const cpuMsPerReq = r.requests > 0 ? ((p.cpuSeconds() - before) * 1000) / r.requests : Number.NaN
  return { ...r, non2xx: 0, cpuMsPerReq }
}

async function main() {
  const count = Number(process.env.BENCH_PAIRS ?? 8)
  const seconds = Number(process.env.BENCH_PAIR_SECONDS ?? 3)
  const perProcess = Number(process.env.BENCH_PAIRS_PER_PROCESS ?? 4)
  const names = (process.env.BENCH_SCENARIOS ?? 'miss,hit,forward,connect').split(',')
  if (!hasCommand('/usr/bin/wrk') && !hasCommand('wrk')) throw new Error('gateway-peers needs wrk')
  const started = []
  const dir = makeTempDir('proxykit-bench-peers-')
  pinLoadSide()
  try {
    const origins = {
      plain: await startProcess(ORIGIN, [], { BODY_SIZE: '100' }),
      fresh: await startProcess(ORIGIN, [], { BODY_SIZE: '100', CACHE_CONTROL: 'max-age=600' }),
      raw: await startProcess(FORWARD_BENCH, ['--raw-origin']),
    }
    started.push(...Object.values(origins))
    const loader = buildTunnelLoader(dir)
    console.log(
      `# the gateway (CLI defaults: access log on stdout, metrics) beside its peers, ${CONNECTIONS} connections, ` +
        `${count} pairs of ${seconds} s runs, order alternating, both servers fresh every ${perProcess} pairs; ${pinningNote()}`,
    )
    for (const name of names) {
      const scenario = SCENARIOS[name]
      if (scenario === undefined) throw new Error(`unknown scenario ${name}`)
      if (scenario.needs !== undefined && !hasCommand(scenario.needs)) {
        console.log(`${name}: skipped, ${scenario.needs} is not installed`)
        continue
      }
      if (scenario.tunnel && loader === null) {
        console.log(`${name}: skipped, no C compiler for lib/tunnel-load.c`)
        continue
      }
      const live = { gateway: null, [scenario.peer]: null }
      const fresh = async (who) => {
        await live[who]?.stop()
        const p = await (who === 'gateway' ? scenario.ours(origins) : scenario.theirs(origins, dir))
        started.push(p)
        pinServer(p.pid)
        live[who] = p
        await measureOne(scenario, p, origins, loader, 1)
      }
      const ratios = []
      const cpuRatios = []
      let errors = 0
      for (let i = 0; i < count; i++) {
        if (i % perProcess === 0) {
          await fresh('gateway')
          await fresh(scenario.peer)
        }
        const order = i % 2 === 0 ? ['gateway', scenario.peer] : [scenario.peer, 'gateway']
        const r = {}
        for (const who of order) r[who] = await measureOne(scenario, live[who], origins, loader, seconds)
        const [g, t] = [r.gateway, r[scenario.peer]]
        errors += g.errors + g.non2xx + t.errors + t.non2xx
        ratios.push(g.rps / t.rps)
        if (g.cpuMsPerReq > 0 && t.cpuMsPerReq > 0) cpuRatios.push(t.cpuMsPerReq / g.cpuMsPerReq)
        console.log(
          `  ${name} pair ${String(i + 1).padStart(2)}: gateway ${Math.round(g.rps)} req/s, ` +
            `${scenario.peer} ${Math.round(t.rps)} req/s: ${(g.rps / t.rps).toFixed(2)}x`,
        )
      }
      console.log(
        `${name}: gateway / ${scenario.peer}: ${pairSummary(ratios, cpuRatios)}; target ${scenario.target}; ` +
          `errors+non2xx ${errors}`,
      )
      for (const who of Object.keys(live)) await live[who]?.stop()
    }
  } finally {
    await stopAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'gateway') await gatewayRole(process.argv[3], process.argv[4])
else await main()
