// Instructions per request: a server process run under valgrind's callgrind, which counts the user-space
// instructions it executes. It depends far less on what else the machine is doing than req/s and CPU time
// (two runs of one variant agree within about 1% here, where an A/A req/s comparison swings by 10-30%), so
// it can resolve a cost of a few percent that throughput figures on a shared machine cannot. Not nothing,
// though: how many requests one event-loop turn handles depends on timing, and a turn has fixed costs, so
// run one counted server at a time on an otherwise quiet machine (two at once spread windows by ±5%).
//
// It counts instructions, not time: kernel work (the sockets) is left out, and so are cache misses. The
// kernel's share of a request is the same for every variant of one server, so a variant's extra user-space
// instructions, as a share of the baseline's, overstate its throughput cost by about the kernel's share.
//
// Method: start the server with instrumentation off and warm it up, then measure equal windows: zero the
// counters, switch instrumentation on, send the window's requests, switch it off and dump. The first
// window is thrown away: V8 optimises most of the request path in it, whatever the uninstrumented warm-up
// did (seen here: half its instructions were TurboFan). In the others, what V8's optimising compiler still
// does (a re-optimisation after a deopt, a few million instructions now and then) is subtracted, as
// callgrind_annotate attributes it (inclusive cost of Runtime_CompileOptimized; the server runs with
// --no-concurrent-recompilation so that compilation happens on the thread being counted, where it can be
// told apart). The figure is the median over the windows (8 by default), which also drops the odd window
// with a full mark-compact in it (seen in every variant, under valgrind only, so not a per-request cost). GC stays in: it is part of every request's cost,
// with the young generation fixed at the size a loaded server grows it to (--min-semi-space-size=16):
// V8 sizes it by allocation per millisecond, which valgrind's slowness cuts, so left alone each process
// keeps whatever size its start-up left it (a 10,000-rule policy's compilation grows it, a bare app's does
// not), and the scavenges' fixed cost (several hundred thousand instructions each, roots mostly) then
// differs between variants by more than the costs being compared.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const VALGRIND = '/usr/bin/valgrind'
const CONTROL = '/usr/bin/callgrind_control'
const ANNOTATE = '/usr/bin/callgrind_annotate'

export function hasCallgrind() {
  return existsSync(VALGRIND) && existsSync(CONTROL) && existsSync(ANNOTATE)
}

/** Throws unless callgrind is installed: what a scenario's `instructions` mode needs. */
export function requireCallgrind() {
  if (!hasCallgrind()) throw new Error('valgrind (callgrind) is not installed')
}

/** One line of an instructions report: `label`, the median count per `per`, and the windows behind it. */
export function countLine(label, r, per = 'request') {
  return (
    `${label} ${Math.round(r.perRequest).toLocaleString('en-US').padStart(8)} instructions per ${per} ` +
    `(windows: ${r.perWindow.map((w) => Math.round(w)).join(', ')})`
  )
}

function control(pid, ...args) {
  const r = spawnSync(CONTROL, [...args, String(pid)], { encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed: ${r.stderr || r.stdout}`)
}

/**
 * The newest dump for `base` (callgrind names dumps `base.1`, `base.2`, …): its `totals:` line and what
 * the optimising compiler took of it.
 */
function newestDump(dir, base) {
  const dumps = readdirSync(dir)
    .filter((f) => f.startsWith(`${base}.`) && /^\d+$/.test(f.slice(base.length + 1)))
    .sort((a, b) => Number(b.slice(base.length + 1)) - Number(a.slice(base.length + 1)))
  if (dumps.length === 0) throw new Error(`no callgrind dump for ${base}`)
  const file = join(dir, dumps[0])
  const m = /^totals:\s+(\d+)/m.exec(readFileSync(file, 'utf8'))
  if (!m) throw new Error(`no totals in ${dumps[0]}`)
  return { total: Number(m[1]), compile: compileCost(file) }
}

/** Instructions spent in V8's optimising compiler, inclusive, per callgrind_annotate. */
function compileCost(file) {
  const r = spawnSync(ANNOTATE, ['--inclusive=yes', '--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  const line = (r.stdout ?? '').split('\n').find((l) => l.includes('Runtime_CompileOptimized('))
  return line === undefined ? 0 : Number(/^\s*([\d,]+)/.exec(line)?.[1].replaceAll(',', '') ?? 0)
}

/** `count` GET requests for `path`, `connections` at a time, with undici; throws unless every one is 200. */
async function send(port, path, count, connections) {
  const { Pool } = await import('undici')
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections })
  let left = count
  let failed = 0
  const statuses = new Set()
  const worker = async () => {
    while (left > 0) {
      left--
      const r = await pool.request({ path, method: 'GET' })
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
  if (failed > 0)
    throw new Error(`${failed} of ${count} requests did not answer 200 (${[...statuses].join(', ')})`)
}

/**
 * Starts `node script ...args` under callgrind (the child prints `{"port": N}` or `{"ports": [N]}` on its
 * first line once listening), and returns the user-space instructions per request for `path`.
 */
export async function instructionsPerRequest({
  dir,
  tag,
  script,
  args,
  path,
  warmup = Number(process.env.BENCH_CG_WARMUP ?? 6000),
  windows = Number(process.env.BENCH_CG_WINDOWS ?? 9),
  window = Number(process.env.BENCH_CG_WINDOW ?? 3000),
  connections = 8,
  // What one window sends: `count` requests to the server on `port` (by default GETs of `path`).
  load = (port, count) => send(port, path, count, connections),
  nodeFlags = (process.env.BENCH_CG_NODE_FLAGS ?? '--no-concurrent-recompilation --min-semi-space-size=16')
    .split(' ')
    .filter(Boolean),
  // Seconds of an idle instrumented window, before the counted ones: the instructions the server runs
  // per second with no traffic (timers: metrics sampling, connection checks) are then subtracted from
  // each window in proportion to its wall time. Under valgrind a server answers tens of requests a
  // second instead of thousands, so once-a-second work would otherwise be counted as per-request cost,
  // and more so the slower the machine (0: nothing subtracted).
  idleSeconds = 0,
}) {
  const base = `cg-${tag}.out`
  const child = spawn(
    VALGRIND,
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      // V8 writes and rewrites machine code at run time.
      '--smc-check=all-non-file',
      `--callgrind-out-file=${join(dir, base)}`,
      process.execPath,
      ...nodeFlags,
      script,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  try {
    // Start-up under valgrind takes a minute on a quiet machine, far longer on a loaded one.
    const timer = setTimeout(
      () => child.kill('SIGKILL'),
      Number(process.env.BENCH_CG_START_TIMEOUT ?? 300) * 1000,
    )
    // The first line with a port (a server may log before it: the gateway's pino on stdout); the rest
    // of stdout keeps flowing, unread.
    const info = await Promise.race([
      (async () => {
        let text = ''
        for (;;) {
          const [chunk] = await once(child.stdout, 'data')
          text += chunk.toString()
          for (const line of text.split('\n')) {
            try {
              const parsed = JSON.parse(line)
              if (parsed.port !== undefined || parsed.ports !== undefined) return parsed
            } catch {}
          }
        }
      })(),
      once(child, 'exit').then(() => {
        throw new Error(`${tag}: the server exited under valgrind`)
      }),
    ])
    clearTimeout(timer)
    const port = info.port ?? info.ports[0]
    await load(port, warmup)
    let idlePerSecond = 0
    if (idleSeconds > 0) {
      control(child.pid, '--zero')
      // Timed from when instrumentation is on (the control call returns) until it is off again.
      control(child.pid, '--instr=on')
      const started = performance.now()
      await new Promise((r) => setTimeout(r, idleSeconds * 1000))
      control(child.pid, '--instr=off')
      const seconds = (performance.now() - started) / 1000
      control(child.pid, '--dump')
      const { total, compile } = newestDump(dir, base)
      idlePerSecond = (total - compile) / seconds
    }
    const perWindow = []
    const windowSeconds = []
    for (let i = 0; i < windows; i++) {
      control(child.pid, '--zero')
      control(child.pid, '--instr=on')
      const started = performance.now()
      await load(port, window)
      control(child.pid, '--instr=off')
      const seconds = (performance.now() - started) / 1000
      control(child.pid, '--dump')
      const { total, compile } = newestDump(dir, base)
      if (i > 0) {
        perWindow.push((total - compile - idlePerSecond * seconds) / window)
        windowSeconds.push(seconds)
      }
    }
    const sorted = [...perWindow].sort((a, b) => a - b)
    const mid = sorted.length >> 1
    const perRequest = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    return { perRequest, perWindow, idlePerSecond, windowSeconds }
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM')
  }
}
