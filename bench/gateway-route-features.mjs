#!/usr/bin/env node
// Issue 27's benchmark: what a reverse route's features cost per request, in user-space instructions
// (callgrind, bench/lib/instructions.mjs), against the bare route beside it. Each variant is one gateway
// (startGateway, access log off) with one route to the same origin:
//   bare           the route alone
//   cors           + cors: { origin: [http://app.test], credentials: true }
//   helmet         + helmet: true
//   jwt            + auth.jwt (HS256 secret, issuer and audience checked, the subject sent upstream)
//   cors+helmet+jwt all three (the issue's route)
// BENCH_VARIANTS (comma-separated) counts only those (without bare, the columns against it are left empty).
// Every request of every variant carries the same headers (Origin, Authorization: Bearer <HS256 token>),
// so the requests are byte for byte the same and only the gateway's work differs. Target: the full
// variant at most 15% over bare.
//
//   node bench/gateway-route-features.mjs      (valgrind needed; run on a quiet machine, ~15 minutes)
//
// The gateway is imported from apps/gateway/dist (build it first). Stops everything it started.
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startProcess, stopAll } from './lib/harness.mjs'
import { instructionsPerRequest, requireCallgrind } from './lib/instructions.mjs'

const SELF = fileURLToPath(import.meta.url)
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const GATEWAY = new URL('../apps/gateway/dist/src/index.js', import.meta.url).href
const SECRET = 'bench-secret-bench-secret-bench-secret!'
// BENCH_MAX_FAILED: answers other than 200 a load may have before the run stops (default 0). On a busy
// machine a new upstream connection under valgrind can outlast the route's 5 s connect timeout (a 504).
const MAX_FAILED = Number(process.env.BENCH_MAX_FAILED ?? 0)
const ALL = ['bare', 'cors', 'helmet', 'jwt', 'cors+helmet+jwt']
const VARIANTS = process.env.BENCH_VARIANTS ? process.env.BENCH_VARIANTS.split(',') : ALL
for (const v of VARIANTS)
  if (!ALL.includes(v)) throw new Error(`BENCH_VARIANTS: unknown ${v} (one of ${ALL.join(', ')})`)

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
function token() {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
    sub: 'alice',
    iss: 'https://id.test',
    aud: 'api',
    exp: Math.floor(Date.now() / 1000) + 24 * 3600,
  })}`
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`
}

function route(variant, upstream) {
  // Under callgrind on a loaded machine an answer can take longer than the default 30 s (two of 2,000
  // warm-up requests did not answer 200 at a load average of 45).
  const r = { prefix: '/', upstreams: [upstream], timeout: '10m' }
  if (variant.includes('cors')) r.cors = { origin: ['http://app.test'], credentials: true }
  if (variant.includes('helmet')) r.helmet = true
  if (variant.includes('jwt'))
    r.auth = {
      jwt: { secret: SECRET, issuer: 'https://id.test', audience: 'api', claimHeaders: { 'x-user': 'sub' } },
    }
  return r
}

async function role(variant, upstream) {
  const { resolveConfig, startGateway } = await import(GATEWAY)
  const { default: pino } = await import(
    new URL('../apps/gateway/node_modules/pino/pino.js', import.meta.url).href
  )
  const config = resolveConfig({
    reverse: {
      listen: '127.0.0.1:0',
      routes: [route(variant, upstream)],
      // Under callgrind a connection waits seconds between windows (the counters dumped): the default 10 s
      // for the next request head would cut the load's keep-alive connections (ECONNRESET).
      clientTimeouts: { header: '10m', idle: '10m' },
    },
    admin: { listen: '127.0.0.1:0' },
    log: { access: false, level: 'warn' },
  })
  const gateway = await startGateway(config, { logger: pino({ level: 'warn' }, pino.destination(2)) })
  process.stdout.write(`${JSON.stringify({ port: Number(new URL(gateway.listeners.reverse.url).port) })}\n`)
}

/** `count` GETs with the benchmark's headers, `connections` at a time; throws unless every one is 200. */
async function load(port, count, headers, connections = 8) {
  const { Pool } = await import('undici')
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections })
  let left = count
  let failed = 0
  const statuses = new Set()
  const worker = async () => {
    while (left > 0) {
      left--
      const r = await pool.request({ path: '/api/items?page=2', method: 'GET', headers })
      await r.body.dump()
      if (r.statusCode !== 200) {
        failed++
        statuses.add(r.statusCode)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: connections }, worker))
  } finally {
    await pool.close()
  }
  if (failed > MAX_FAILED)
    throw new Error(`${failed} of ${count} requests did not answer 200 (${[...statuses].join(', ')})`)
  if (failed > 0)
    console.error(
      `${failed} of ${count} requests did not answer 200 (${[...statuses].join(', ')}): counted anyway`,
    )
}

async function main() {
  requireCallgrind()
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-route-bench-'))
  const started = []
  try {
    const origin = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
    started.push(origin)
    const headers = { origin: 'http://app.test', authorization: `Bearer ${token()}` }
    const results = new Map()
    for (const variant of VARIANTS) {
      const r = await instructionsPerRequest({
        dir,
        tag: variant.replaceAll('+', '-'),
        script: SELF,
        args: ['--role', variant, origin.url],
        path: '/',
        load: (port, count) => load(port, count, headers),
      })
      results.set(variant, r)
      console.error(`${variant}: ${Math.round(r.perRequest)}`)
    }
    const base = results.get('bare')?.perRequest
    console.log(
      `\nuser-space instructions per request (callgrind: ${process.env.BENCH_CG_WARMUP ?? 6000} requests to warm up, ` +
        `one window thrown away, then the median of the others; ${new Date().toUTCString()})`,
    )
    console.log('| variant | instructions/request | added vs bare | added, % of bare | every window |')
    console.log('| --- | ---: | ---: | ---: | --- |')
    for (const [variant, r] of results) {
      const against = variant !== 'bare' && base !== undefined
      const added = against ? r.perRequest - base : null
      console.log(
        `| ${variant} | ${Math.round(r.perRequest)} | ${against ? Math.round(added) : '-'} | ${
          against ? `${((added / base) * 100).toFixed(1)}%` : '-'
        } | ${r.perWindow.map((w) => Math.round(w)).join(', ')} |`,
      )
    }
    const full = results.get('cors+helmet+jwt')?.perRequest
    if (full !== undefined && base !== undefined)
      console.log(
        `\ncors+helmet+jwt vs bare: ${(((full - base) / base) * 100).toFixed(1)}% more instructions (target: at most 15%)`,
      )
  } finally {
    await stopAll(started)
    rmSync(dir, { recursive: true, force: true })
  }
}

const i = process.argv.indexOf('--role')
if (i !== -1) await role(process.argv[i + 1], process.argv[i + 2])
else await main()
