#!/usr/bin/env node
// Core benchmark: what a minimal reverse hop built from @proxykit/core's helpers costs, next to the direct
// origin and next to plain Fastify answering by itself. It also proves the harness works end to end.
//
//   node bench/core.mjs        (BENCH_DURATION seconds per run, default 10; BENCH_CONNECTIONS, default 64;
//                               BODY_SIZE bytes, default 100)
//
// Rows, each server its own child process on a loopback port:
//   direct     the origin (bench/lib/origin.mjs, node:http, fixed body), the ceiling and the baseline
//   fastify    plain Fastify answering the same body itself (what Fastify's own pipeline costs)
//   core-hop   Fastify + undici Pool: reply.hijack(), stripHopByHop, Pool.request and sendUpstreamResponse
//              piping the body to reply.raw (the proxies' hot path until core's relay)
//   core-relay the same hop through core's relay: undici's dispatch with core's handler writing each chunk
//              to reply.raw (the proxies' hot path now, see docs/architecture.md)
import { fileURLToPath } from 'node:url'
import { hasCommand, measure, measureWrk, printTable, startProcess, stopAll } from './lib/harness.mjs'

const SELF = fileURLToPath(import.meta.url)
const ORIGIN = fileURLToPath(new URL('./lib/origin.mjs', import.meta.url))
const BODY_SIZE = Number(process.env.BODY_SIZE ?? 100)

function announce(server) {
  const { port } = server.address()
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, port })}\n`)
}

function stopOn(close) {
  const stop = () =>
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

async function plainFastify() {
  const { default: Fastify } = await import('fastify')
  const body = Buffer.alloc(BODY_SIZE, 'x')
  const app = Fastify()
  app.get('/*', (_request, reply) => {
    reply.header('content-type', 'application/octet-stream').send(body)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  announce(app.server)
  stopOn(() => app.close())
}

/**
 * A Fastify + undici Pool reverse hop: `reply.hijack()`, hop-by-hop headers stripped, then `send` answers
 * the request from the pool (the two transports compared below).
 */
async function hopServer(send) {
  const { default: Fastify } = await import('fastify')
  const { Pool } = await import('undici')
  const core = await import('@proxykit/core')
  const pool = new Pool(process.env.ORIGIN_URL, { connections: 128, pipelining: 1 })
  const app = Fastify()
  await app.register(core.proxyContext)
  app.get('/*', (request, reply) => {
    reply.hijack()
    const headers = core.stripHopByHop(request.headers)
    delete headers.host
    send(core, pool, { method: 'GET', path: request.url, headers }, request, reply)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  announce(app.server)
  stopOn(async () => {
    await app.close()
    await pool.close()
  })
}

const badGateway = (core, err) => new core.BadGatewayError('upstream failed', { cause: err })

/** `Pool.request`, its body piped to `reply.raw` by `sendUpstreamResponse`. */
const coreHop = () =>
  hopServer((core, pool, options, request, reply) => {
    pool.request(options, (err, upstream) => {
      if (err) return core.sendError(reply, badGateway(core, err))
      core.sendUpstreamResponse(request, reply, {
        statusCode: upstream.statusCode,
        headers: core.stripHopByHop(upstream.headers),
        body: upstream.body,
      })
    })
  })

/** core's `relay`: undici's dispatch with core's handler writing each chunk to `reply.raw`. */
const coreRelay = () =>
  hopServer((core, pool, options, request, reply) => {
    core.relay(pool, options, request, reply, {
      headers: (_status, upstreamHeaders) => core.stripHopByHop(upstreamHeaders),
      failed: (err) => core.sendError(reply, badGateway(core, err)),
      done: () => {},
    })
  })

async function scenario() {
  const started = []
  try {
    const origin = await startProcess(ORIGIN, [], { BODY_SIZE: String(BODY_SIZE) })
    started.push(origin)
    const fastify = await startProcess(SELF, ['fastify'])
    started.push(fastify)
    const hop = await startProcess(SELF, ['hop'], { ORIGIN_URL: origin.url })
    started.push(hop)
    const relayHop = await startProcess(SELF, ['relay'], { ORIGIN_URL: origin.url })
    started.push(relayHop)
    const targets = [
      ['direct', origin],
      ['fastify', fastify],
      ['core-hop', hop],
      ['core-relay', relayHop],
    ]
    const title = `GET ${BODY_SIZE} B, keep-alive`
    const results = []
    for (const [name, p] of targets) results.push(await measure({ name, url: `${p.url}/`, server: p }))
    printTable(`${title} — autocannon`, results, 'direct')
    if (hasCommand('/usr/bin/wrk') || hasCommand('wrk')) {
      const wrk = []
      for (const [name, p] of targets) wrk.push(await measureWrk({ name, url: `${p.url}/`, server: p }))
      printTable(`${title} — wrk`, wrk, 'direct')
    }
    console.log(
      'RSS after the runs (MB):',
      targets.map(([name, p]) => `${name} ${p.rssMB().toFixed(1)}`).join(', '),
    )
  } finally {
    await stopAll(started)
  }
}

const role = process.argv[2]
if (role === 'fastify') await plainFastify()
else if (role === 'hop') await coreHop()
else if (role === 'relay') await coreRelay()
else await scenario()
