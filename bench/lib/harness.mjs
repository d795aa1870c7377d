// The shared benchmark harness: start the measured servers as child processes, load them with autocannon
// (and wrk where installed), and print side-by-side tables with ratios against a baseline.
//
//   const origin = await startProcess(ORIGIN, [], { BODY_SIZE: '100' })
//   const results = [await measure({ name: 'direct', url: origin.url })]
//   printTable('GET 100 B', results, 'direct')
//   await origin.stop()
//
// Every measured server is its own process, so the load generator (this process) never shares an event
// loop with what it measures. Figures depend on the machine and on what else runs on it: compare rows
// of one table, taken in one run, never numbers from different runs.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { createInterface } from 'node:readline'

// autocannon is imported where a load is run, not here: every measured role process imports this file
// too (for `serve`'s helpers and the scenarios' own helpers), and autocannon and what it loads were
// about 25 MB of each role's resident memory, counted as the measured server's peak RSS.
let autocannonModule
async function autocannon(options) {
  autocannonModule ??= (await import('autocannon')).default
  return autocannonModule(options)
}

/** Seconds per measurement (BENCH_DURATION), connections (BENCH_CONNECTIONS): the defaults every scenario uses. */
export const DEFAULT_DURATION = Number(process.env.BENCH_DURATION ?? 10)
export const DEFAULT_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
/**
 * Seconds of discarded load before each measurement (BENCH_WARMUP, default 2): a fresh Node server is
 * slow for its first thousands of requests (JIT, undici compiling its parser, lazy modules), which would
 * otherwise be measured as the server's speed. Measured here: a Node hop did 40 req/s in its first second
 * and 2,000 once warm.
 */
export const DEFAULT_WARMUP = Number(process.env.BENCH_WARMUP ?? 2)
// A loaded machine (other sessions' tests) can take longer to start a role: BENCH_START_TIMEOUT seconds.
const START_TIMEOUT_MS = Number(process.env.BENCH_START_TIMEOUT ?? 20) * 1000
const STOP_TIMEOUT_MS = 5_000

// Every server this process started; they are killed when it exits, however it exits (an uncaught error
// in a scenario must not leave servers running).
const live = new Set()
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

let clockTicks
function clkTck() {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
    clockTicks = Number(r.stdout?.trim()) || 100
  }
  return clockTicks
}

/** Resident set size of a process in MB, from /proc/PID/status (NaN when it has gone or /proc is missing). */
export function rssMBOf(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** User + system CPU seconds a process has used, from /proc/PID/stat. */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / clkTck()
  } catch {
    return Number.NaN
  }
}

/**
 * Tracks a spawned child (any program, not only node) like `startProcess` does: it is killed when this
 * process exits, however it exits. Returns its `stop()`: SIGTERM, SIGKILL after 5 s, resolved once the
 * child has exited (at once when it already has).
 */
export function track(child) {
  live.add(child)
  let exited = child.exitCode !== null
  const exit = new Promise((resolve) =>
    child.once('exit', () => {
      exited = true
      live.delete(child)
      resolve()
    }),
  )
  return async function stop() {
    if (exited) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await exit
    clearTimeout(timer)
  }
}

/** CPU seconds of a process and all its descendants (varnishd and squid work in child processes). */
export function treeCpuSecondsOf(pid) {
  const children = new Map()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (!children.has(ppid)) children.set(ppid, [])
      children.get(ppid).push(Number(d))
    } catch {}
  }
  let total = 0
  const stack = [pid]
  while (stack.length > 0) {
    const p = stack.pop()
    total += cpuSecondsOf(p) || 0
    stack.push(...(children.get(p) ?? []))
  }
  return total
}

/**
 * Samples a process's RSS every `intervalMs` (for `rss` modes: one long run at a steady number of
 * connections). The returned function stops sampling and returns `{ peak, last, windows }`: the peak and
 * the last sample in MB, and the peak of each `windowMs` window in order, to show whether RSS is flat or
 * still climbing at the end.
 */
export function sampleRssTimeline(pid, windowMs = 10_000, intervalMs = 100) {
  const windows = []
  let peak = 0
  let last = Number.NaN
  let windowPeak = 0
  let windowStart = Date.now()
  const timer = setInterval(() => {
    const mb = rssMBOf(pid)
    if (Number.isNaN(mb)) return
    last = mb
    if (mb > peak) peak = mb
    if (mb > windowPeak) windowPeak = mb
    if (Date.now() - windowStart >= windowMs) {
      windows.push(windowPeak)
      windowPeak = 0
      windowStart = Date.now()
    }
  }, intervalMs)
  return () => {
    clearInterval(timer)
    if (windowPeak > 0) windows.push(windowPeak)
    return { peak, last, windows }
  }
}

/**
 * Samples a process's RSS every `intervalMs` until the returned function is called; that function
 * returns the peak in MB (0 when no sample could be read).
 */
export function samplePeakRss(pid, intervalMs = 100) {
  const stop = sampleRssTimeline(pid, Number.POSITIVE_INFINITY, intervalMs)
  return () => stop().peak
}

/**
 * Spawns `node scriptPath ...args` and waits for the JSON line `{"url": "...", "port": N}` it prints on
 * stdout once listening. Its stderr passes through; later stdout lines are ignored.
 * Resolves `{ url, port, pid, info, rssMB(), cpuSeconds(), stop() }` (`info` is the whole JSON line).
 * `options.nodeArgs` go before the script (`['--cpu-prof']` to profile a measured server);
 * `options.startMs` replaces the start timeout (BENCH_START_TIMEOUT). A line with a `level` is a pino log
 * line (a gateway logging `Server listening`), not the announcement, and is skipped.
 */
export function startProcess(scriptPath, args = [], env = {}, options = {}) {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), scriptPath, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
  const stop = track(child)
  const startMs = options.startMs ?? START_TIMEOUT_MS
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    const timer = setTimeout(() => {
      fail(new Error(`${scriptPath} ${args.join(' ')} printed no {"url","port"} line within ${startMs} ms`))
    }, startMs)
    function fail(err) {
      clearTimeout(timer)
      lines.close()
      stop().then(() => reject(err), reject)
    }
    child.once('error', fail)
    const early = (code, signal) => {
      fail(new Error(`${scriptPath} ${args.join(' ')} exited (${signal ?? code}) before it was listening`))
    }
    child.once('exit', early)
    lines.on('line', (line) => {
      let info
      try {
        info = JSON.parse(line)
      } catch {
        return
      }
      if (typeof info?.port !== 'number' || info.level !== undefined) return
      clearTimeout(timer)
      child.off('exit', early)
      lines.removeAllListeners('line')
      child.stdout.resume()
      const pid = child.pid
      resolve({
        url: info.url ?? `http://127.0.0.1:${info.port}`,
        port: info.port,
        pid,
        info,
        child,
        rssMB: () => rssMBOf(pid),
        cpuSeconds: () => cpuSecondsOf(pid),
        stop,
      })
    })
  })
}

function requestTarget(url, proxy) {
  // Through a forward proxy: connect to the proxy, send the absolute-form target (RFC 9112 §3.2.2).
  if (proxy) return { connectTo: proxy, path: url, host: new URL(url).host }
  const u = new URL(url)
  return { connectTo: `${u.protocol}//${u.host}`, path: `${u.pathname}${u.search}`, host: u.host }
}

// CPU seconds used by the measured server process(es) (`server`: one started process or several).
function cpuOf(server) {
  if (server === undefined) return undefined
  const list = Array.isArray(server) ? server : [server]
  return list.reduce((sum, p) => sum + p.cpuSeconds(), 0)
}

function withCpu(result, server, cpuBefore, requests) {
  if (server === undefined || !(requests > 0)) return result
  return { ...result, requests, cpuMsPerReq: ((cpuOf(server) - cpuBefore) * 1000) / requests }
}

/**
 * Loads `url` with autocannon (keep-alive, `connections` concurrent, `duration` seconds) and returns
 * `{ name, tool: 'autocannon', rps, p50, p99, errors, non2xx }` (latencies in ms, rps the mean).
 * With `proxy` ('http://127.0.0.1:PORT'), the requests go to the proxy in absolute-form for `url`.
 * With `server` (what `startProcess` returned, or an array of them), the result also has `requests` and
 * `cpuMsPerReq`: the server's CPU time per request, the figure that stays meaningful on a busy machine.
 */
export async function measure({
  name,
  url,
  connections = DEFAULT_CONNECTIONS,
  duration = DEFAULT_DURATION,
  method = 'GET',
  headers = {},
  body,
  proxy,
  server,
  warmup = DEFAULT_WARMUP,
}) {
  const t = requestTarget(url, proxy)
  const run = (seconds) =>
    autocannon({
      url: t.connectTo,
      connections,
      duration: seconds,
      requests: [{ method, path: t.path, headers: { host: t.host, ...headers }, body }],
    })
  if (warmup > 0) await run(warmup)
  const cpuBefore = cpuOf(server)
  const result = await run(duration)
  const measured = {
    name,
    tool: 'autocannon',
    rps: result.requests.mean,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
  return withCpu(measured, server, cpuBefore, result.requests.total)
}

/** Whether `cmd` is an executable on PATH (or an absolute path to one). */
export function hasCommand(cmd) {
  if (cmd.includes('/')) return existsSync(cmd)
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, cmd)))
}

function wrkMs(value, unit) {
  const n = Number(value)
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n
}

function luaString(s) {
  return `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r/g, '\\r').replace(/\n/g, '\\n')}"`
}

/**
 * The same measurement with wrk (one thread; `measure`'s options and result shape, `tool: 'wrk'`).
 * Resolves null when wrk is not installed. A small Lua script sets the method, headers, body and, with
 * `proxy`, the absolute-form target.
 */
export async function measureWrk({
  name,
  url,
  connections = DEFAULT_CONNECTIONS,
  duration = DEFAULT_DURATION,
  method = 'GET',
  headers = {},
  body,
  proxy,
  server,
  threads = 1,
  warmup = DEFAULT_WARMUP,
}) {
  const wrk = hasCommand('/usr/bin/wrk') ? '/usr/bin/wrk' : hasCommand('wrk') ? 'wrk' : null
  if (wrk === null) return null
  const t = requestTarget(url, proxy)
  const dir = mkdtempSync(join(tmpdir(), 'proxykit-wrk-'))
  try {
    const script = join(dir, 'request.lua')
    const lua = [
      `wrk.method = ${luaString(method)}`,
      `wrk.path = ${luaString(t.path)}`,
      `wrk.headers["Host"] = ${luaString(t.host)}`,
      ...Object.entries(headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`),
      body === undefined ? '' : `wrk.body = ${luaString(body)}`,
    ]
    writeFileSync(script, `${lua.join('\n')}\n`)
    const run = (seconds) =>
      new Promise((resolve, reject) => {
        const child = spawn(
          wrk,
          [
            '-t',
            String(threads),
            '-c',
            String(connections),
            '-d',
            `${seconds}s`,
            '--latency',
            '-s',
            script,
            `${t.connectTo}/`,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        )
        let text = ''
        child.stdout.on('data', (c) => {
          text += c
        })
        child.once('error', reject)
        child.once('exit', (code) =>
          code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`)),
        )
      })
    if (warmup > 0) await run(warmup)
    const cpuBefore = cpuOf(server)
    const out = await run(duration)
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN)
    const pct = (p) => {
      const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out)
      return m ? wrkMs(m[1], m[2]) : Number.NaN
    }
    const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
    const errors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
    return withCpu(
      { name, tool: 'wrk', rps, p50: pct(50), p99: pct(99), errors, non2xx },
      server,
      cpuBefore,
      requests,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function fmt(n, digits = 1) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-'
}

function columns(results) {
  const head = ['name', 'tool', 'req/s', 'p50 ms', 'p99 ms', 'vs baseline', 'errors+non2xx']
  if (results.some((r) => r && r.cpuMsPerReq !== undefined)) head.push('server CPU ms/req')
  return head
}

function rows(results, baselineName) {
  const base = results.find((r) => r && r.name === baselineName)
  const cpu = columns(results).length > 7
  return results
    .filter((r) => r)
    .map((r) => {
      const row = [
        r.name,
        r.tool ?? '',
        Math.round(r.rps).toLocaleString('en-US'),
        fmt(r.p50, 2),
        fmt(r.p99, 2),
        base && base.rps > 0 ? `${fmt(r.rps / base.rps, 2)}x` : '-',
        String(r.errors + r.non2xx),
      ]
      if (cpu) row.push(fmt(r.cpuMsPerReq, 3))
      return row
    })
}

/** The table as markdown (for READMEs), ratios against the result named `baselineName`. */
export function markdownTable(results, baselineName) {
  const head = columns(results)
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`]
  for (const r of rows(results, baselineName)) lines.push(`| ${r.join(' | ')} |`)
  return lines.join('\n')
}

/** The median of a list of numbers (NaN for an empty list). */
export function median(list) {
  const s = [...list].sort((x, y) => x - y)
  if (s.length === 0) return Number.NaN
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/**
 * The closing line of a pairs comparison: the median of the pairs' req/s ratios, their range, and the
 * median of their CPU-per-request ratios (`ratios` and `cpuRatios`: one number per pair).
 */
export function pairSummary(ratios, cpuRatios) {
  const sorted = [...ratios].sort((x, y) => x - y)
  return (
    `median ${median(ratios).toFixed(2)}x over ${ratios.length} pairs (range ${sorted[0].toFixed(2)}-` +
    `${sorted.at(-1).toFixed(2)}x; by CPU per request ${median(cpuRatios).toFixed(2)}x)`
  )
}

/**
 * Prints `title`, an aligned table (req/s, p50, p99, ratio of req/s against `baselineName`, errors, and
 * the server's CPU ms per request when measured) and the same table in markdown. Returns the markdown.
 */
export function printTable(title, results, baselineName) {
  const head = columns(results)
  const body = rows(results, baselineName)
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)))
  const line = (cells) =>
    cells.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  console.log(`\n${title} (baseline: ${baselineName})`)
  console.log(line(head))
  for (const r of body) console.log(line(r))
  const md = markdownTable(results, baselineName)
  console.log(`\n${md}\n`)
  return md
}

/**
 * One target's usual sequence: a 1 s unmeasured autocannon run (JIT, pools), the measured autocannon run
 * (sampling the process's peak RSS and CPU when `target.pid` is set), then wrk. `target` is
 * `{ name, url, pid }` (`pid` null for a server that is not measured itself, like the direct origin).
 * Resolves `{ ac, wrk, peakRssMB, cpuUsPerReq }` (`wrk` null without wrk; the last two NaN without pid).
 */
export async function measureTarget(
  target,
  { duration = DEFAULT_DURATION, connections = DEFAULT_CONNECTIONS } = {},
) {
  const { name, pid } = target
  const url = `${target.url}/`
  await measure({ name, url, duration: 1, connections })
  const peakRss = pid === null ? null : samplePeakRss(pid, 100)
  const cpu0 = pid === null ? 0 : cpuSecondsOf(pid)
  const ac = await measure({ name, url, duration, connections })
  const peakRssMB = peakRss === null ? Number.NaN : peakRss()
  // CPU time per request barely moves with what else the machine runs, unlike req/s.
  const cpuUsPerReq = pid === null ? Number.NaN : ((cpuSecondsOf(pid) - cpu0) * 1e6) / (ac.rps * duration)
  const wrk = await measureWrk({ name, url, duration, connections })
  return { ac, wrk, peakRssMB, cpuUsPerReq }
}

/** Stops every started process, ignoring the ones already gone. */
export async function stopAll(processes) {
  await Promise.allSettled(processes.filter(Boolean).map((p) => p.stop()))
}
