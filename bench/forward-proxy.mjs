#!/usr/bin/env node
// Forward-proxy benchmark: @proxykit/forward-proxy side by side with proxy-chain (the Node peer) and, when
// installed, Squid and tinyproxy, all in one run, all on loopback, each proxy a child process.
//
//   node bench/forward-proxy.mjs            (BENCH_DURATION=seconds per run, default 8; BENCH_CONNECTIONS=64)
//
// Scenarios:
//   absolute   absolute-form `GET http://127.0.0.1:ORIGIN/` of a 100-byte body, keep-alive, autocannon
//              (and wrk with a Lua script setting the absolute path, when /usr/bin/wrk exists)
//   tunnel     64 CONNECT tunnels opened once, then back-to-back keep-alive GETs inside them
//              ("HTTPS-like" short exchanges without the TLS cost, so the proxy is what is measured)
//   connect    one new CONNECT tunnel per exchange (tunnel set-up rate: the full Fastify lifecycle)
// The origin answers directly too ("direct"), as the ceiling.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SELF = fileURLToPath(import.meta.url)
const BODY = 'x'.repeat(100)

// ---- helpers -----------------------------------------------------------------------------------------
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

/** Starts `node SELF role …` and waits for its `{"port":N}` line. */
async function nodeChild(args) {
  const child = spawn(process.execPath, [SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(child.stdout, 'data')
  return { child, port: JSON.parse(line.toString()).port, pid: child.pid }
}

async function startSquid(dir) {
  const port = await freePort()
  const conf = join(dir, 'squid.conf')
  writeFileSync(
    conf,
    [
      `http_port 127.0.0.1:${port}`,
      'http_access allow localhost',
      'http_access deny all',
      'cache deny all',
      'cache_mem 8 MB',
      'access_log none',
      'cache_store_log none',
      `cache_log ${join(dir, 'squid-cache.log')}`,
      'logfile_rotate 0',
      `pid_filename ${join(dir, 'squid.pid')}`,
      `coredump_dir ${dir}`,
      'visible_hostname bench-squid',
      'forwarded_for delete',
      'via off',
      'shutdown_lifetime 0 seconds',
      'workers 1',
      'dns_nameservers 127.0.0.1',
      'max_filedescriptors 4096',
      '',
    ].join('\n'),
  )
  spawnSync('chmod', ['-R', 'a+rwx', dir])
  const child = spawn('/usr/sbin/squid', ['-N', '-f', conf], { stdio: 'ignore' })
  await waitForPort(port)
  return { child, port, pid: child.pid }
}

async function startTinyproxy(dir, originPort) {
  const port = await freePort()
  const conf = join(dir, 'tinyproxy.conf')
  writeFileSync(
    conf,
    [
      'User nobody',
      'Group nogroup',
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 600',
      'MaxClients 1024',
      'Allow 127.0.0.1',
      `ConnectPort ${originPort}`,
      'LogLevel Critical',
      'DisableViaHeader Yes',
      '',
    ].join('\n'),
  )
  const child = spawn('/usr/bin/tinyproxy', ['-d', '-c', conf], { stdio: 'ignore' })
  await waitForPort(port)
  return { child, port, pid: child.pid }
}

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

function sampleRss(pid) {
  let peak = 0
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid))
  }, 200)
  return () => {
    clearInterval(timer)
    return peak
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

// ---- load generators ---------------------------------------------------------------------------------
async function autocannonAbsolute(proxyPort, originPort, connections, duration) {
  const { default: autocannon } = await import('autocannon')
  const result = await autocannon({
    url: `http://127.0.0.1:${proxyPort}`,
    connections,
    duration,
    requests: [{ method: 'GET', path: `http://127.0.0.1:${originPort}/` }],
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  }
}

async function autocannonDirect(originPort, connections, duration) {
  const { default: autocannon } = await import('autocannon')
  const result = await autocannon({ url: `http://127.0.0.1:${originPort}/`, connections, duration })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  }
}

function wrkAbsolute(dir, proxyPort, originPort, connections, duration) {
  const script = join(dir, `wrk-${originPort}.lua`)
  writeFileSync(
    script,
    `wrk.path = "http://127.0.0.1:${originPort}/"\nwrk.headers["Host"] = "127.0.0.1:${originPort}"\n`,
  )
  const target = proxyPort === null ? `http://127.0.0.1:${originPort}/` : `http://127.0.0.1:${proxyPort}/`
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--latency']
  if (proxyPort !== null) args.push('-s', script)
  const out = spawnSync('/usr/bin/wrk', [...args, target], { encoding: 'utf8' }).stdout ?? ''
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)
  const ms = (label) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
    if (!m) return 0
    const v = Number(m[1])
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
  }
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
  return { rps, p50: ms('50'), p99: ms('99'), errors }
}

const REQUEST = (originPort) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\n\r\n`

/** Reads one response (fixed-size body, Content-Length) off `state.buf`; returns true when complete. */
function takeResponse(state) {
  const end = state.buf.indexOf('\r\n\r\n')
  if (end === -1) return false
  const head = state.buf.subarray(0, end).toString('latin1')
  const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
  if (state.buf.length < end + 4 + len) return false
  state.ok = head.startsWith('HTTP/1.1 200')
  state.buf = state.buf.subarray(end + 4 + len)
  return true
}

function openTunnel(proxyPort, originPort) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1')
    socket.setNoDelay(true)
    let buf = Buffer.alloc(0)
    const onData = (c) => {
      buf = Buffer.concat([buf, c])
      const end = buf.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.off('data', onData)
      if (
        !buf.subarray(0, 12).toString().startsWith('HTTP/1.1 200') &&
        !buf.toString().startsWith('HTTP/1.0 200')
      ) {
        socket.destroy()
        reject(new Error(`CONNECT refused: ${buf.subarray(0, end).toString()}`))
        return
      }
      resolve({ socket, rest: buf.subarray(end + 4) })
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.write(`CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\n\r\n`)
  })
}

/** Back-to-back keep-alive requests inside long-lived tunnels. */
async function tunnelLoad(proxyPort, originPort, connections, duration) {
  const latencies = []
  let errors = 0
  const stopAt = Date.now() + duration * 1000
  const worker = async () => {
    let tunnel
    try {
      tunnel = await openTunnel(proxyPort, originPort)
    } catch {
      errors++
      return
    }
    const { socket } = tunnel
    const state = { buf: tunnel.rest, ok: false }
    await new Promise((resolve) => {
      let started = 0
      const send = () => {
        if (Date.now() >= stopAt) {
          socket.destroy()
          resolve()
          return
        }
        started = performance.now()
        socket.write(REQUEST(originPort))
      }
      socket.on('data', (c) => {
        state.buf = state.buf.length === 0 ? c : Buffer.concat([state.buf, c])
        while (takeResponse(state)) {
          if (state.ok) latencies.push(performance.now() - started)
          else errors++
          send()
        }
      })
      socket.on('error', () => {
        errors++
        resolve()
      })
      socket.on('close', resolve)
      send()
    })
  }
  const started = Date.now()
  await Promise.all(Array.from({ length: connections }, worker))
  const seconds = (Date.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  }
}

/** A new tunnel for every exchange: CONNECT, one GET, close. */
async function connectLoad(proxyPort, originPort, connections, duration) {
  const latencies = []
  let errors = 0
  const stopAt = Date.now() + duration * 1000
  const worker = async () => {
    while (Date.now() < stopAt) {
      const t0 = performance.now()
      try {
        const { socket, rest } = await openTunnel(proxyPort, originPort)
        const state = { buf: rest, ok: false }
        await new Promise((resolve, reject) => {
          socket.on('data', (c) => {
            state.buf = Buffer.concat([state.buf, c])
            if (takeResponse(state)) {
              socket.destroy()
              resolve()
            }
          })
          socket.once('error', reject)
          socket.once('close', resolve)
          socket.write(REQUEST(originPort))
        })
        if (state.ok) latencies.push(performance.now() - t0)
        else errors++
      } catch {
        errors++
        await new Promise((r) => setTimeout(r, 10))
      }
    }
  }
  const started = Date.now()
  await Promise.all(Array.from({ length: connections }, worker))
  const seconds = (Date.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  }
}

// ---- main --------------------------------------------------------------------------------------------
async function main() {
  const duration = Number(process.env.BENCH_DURATION ?? 8)
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 64)
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-bench-forward-'))
  const children = []
  const stopAll = () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGTERM')
  }
  process.on('exit', stopAll)
  try {
    const origin = await nodeChild(['--origin'])
    children.push(origin)
    const proxies = []
    proxies.push({ name: 'proxykit', ...(await nodeChild(['--proxykit', String(origin.port)])) })
    proxies.push({ name: 'proxy-chain', ...(await nodeChild(['--proxy-chain'])) })
    if (existsSync('/usr/sbin/squid')) proxies.push({ name: 'squid', ...(await startSquid(dir)) })
    if (existsSync('/usr/bin/tinyproxy'))
      proxies.push({ name: 'tinyproxy', ...(await startTinyproxy(dir, origin.port)) })
    children.push(...proxies)
    const useWrk = existsSync('/usr/bin/wrk')
    console.log(
      `forward-proxy bench: ${duration}s per run, ${connections} connections, node ${process.version}, ` +
        `proxies: ${proxies.map((p) => p.name).join(', ')}${useWrk ? ', wrk' : ''}`,
    )
    const rows = []
    const record = (scenario, tool, name, r, rss) => {
      rows.push({ scenario, tool, name, ...r, rss })
      console.log(
        `${scenario.padEnd(9)} ${tool.padEnd(10)} ${name.padEnd(12)} ${r.rps.toFixed(0).padStart(7)} req/s  ` +
          `p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}` +
          (rss ? `  peak RSS ${(rss / 1048576).toFixed(0)} MB` : ''),
      )
    }
    // Warm-up: each proxy's pools and JIT.
    for (const p of proxies) await autocannonAbsolute(p.port, origin.port, connections, 3)

    record('absolute', 'autocannon', 'direct', await autocannonDirect(origin.port, connections, duration))
    for (const p of proxies) {
      const stop = sampleRss(p.pid)
      const r = await autocannonAbsolute(p.port, origin.port, connections, duration)
      record('absolute', 'autocannon', p.name, r, stop())
    }
    if (useWrk) {
      record('absolute', 'wrk', 'direct', wrkAbsolute(dir, null, origin.port, connections, duration))
      for (const p of proxies) {
        const stop = sampleRss(p.pid)
        const r = wrkAbsolute(dir, p.port, origin.port, connections, duration)
        record('absolute', 'wrk', p.name, r, stop())
      }
    }
    for (const p of proxies) {
      const stop = sampleRss(p.pid)
      record('tunnel', 'custom', p.name, await tunnelLoad(p.port, origin.port, connections, duration), stop())
    }
    for (const p of proxies) {
      const stop = sampleRss(p.pid)
      record(
        'connect',
        'custom',
        p.name,
        await connectLoad(p.port, origin.port, connections, duration),
        stop(),
      )
    }

    console.log('\nratios (proxykit / other, same scenario and tool):')
    for (const scenario of ['absolute', 'tunnel', 'connect']) {
      for (const tool of ['autocannon', 'wrk', 'custom']) {
        const ours = rows.find((r) => r.scenario === scenario && r.tool === tool && r.name === 'proxykit')
        if (!ours) continue
        const parts = rows
          .filter((r) => r.scenario === scenario && r.tool === tool && r.name !== 'proxykit' && r.rps > 0)
          .map((r) => `${r.name} ${(ours.rps / r.rps).toFixed(2)}x`)
        console.log(`  ${scenario.padEnd(9)} ${tool.padEnd(10)} ${parts.join('  ')}`)
      }
    }
  } finally {
    stopAll()
    await new Promise((r) => setTimeout(r, 300))
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---- child roles -------------------------------------------------------------------------------------
const role = process.argv[2]
if (role === '--origin') {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length })
    res.end(BODY)
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })))
} else if (role === '--proxykit') {
  const { default: Fastify } = await import('fastify')
  const { default: forwardProxy } = await import('@proxykit/forward-proxy')
  const originPort = Number(process.argv[3])
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 })
  await app.register(forwardProxy, { allow: ['127.0.0.1/32'], connectPorts: [originPort] })
  await app.listen({ port: 0, host: '127.0.0.1' })
  console.log(JSON.stringify({ port: app.server.address().port }))
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.on(signal, () => app.close().then(() => process.exit(0)))
} else if (role === '--proxy-chain') {
  const { Server } = await import('proxy-chain')
  const server = new Server({ port: 0, host: '127.0.0.1', verbose: false })
  await server.listen()
  console.log(JSON.stringify({ port: server.server.address().port }))
} else {
  await main()
}
