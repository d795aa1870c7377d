// "One core each", as the issues' figures were taken: the measured server alone on one CPU, the load
// generator (wrk, this process's autocannon) and the origins on another. Unpinned on this 2-core VM, a
// Node server's GC and compiler threads compete with wrk and the origin for both cores while Squid or
// nginx (one thread) do not, and the figures swung by up to 2x between identical runs.
//
//   pinLoadSide()          // first thing in a scenario's main(): this process and what it spawns → CPU 0
//   pinServer(server.pid)  // each measured server, after it started → CPU 1 (with its children)
//   spawn(...pinnedCommand('server', process.execPath, [script]))  // or spawned already pinned
//
// Off with BENCH_PIN=0, and by itself where there is one CPU or no `taskset` (util-linux).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'

const TASKSET = '/usr/bin/taskset'

/** Whether this run pins (BENCH_PIN unset or 1, at least 2 CPUs, taskset installed). */
export const PINNING = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && existsSync(TASKSET)

const LOAD_CPU = 0
const SERVER_CPU = 1

/** `pid` and its descendants (varnishd and Squid work in child processes). */
function processTree(pid) {
  const out = [pid]
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
  for (const child of (r.stdout ?? '').split('\n').filter(Boolean)) out.push(...processTree(Number(child)))
  return out
}

let failed = null

function pinTree(pid, cpu) {
  for (const p of processTree(pid)) {
    // -a: every thread of the process (V8's GC and compiler threads, libuv's pool).
    const r = spawnSync(TASKSET, ['-a', '-p', '-c', String(cpu), String(p)], { encoding: 'utf8' })
    if (r.status !== 0 && failed === null) {
      // A container may forbid setting affinity: the run goes on unpinned, and says so.
      failed = (r.stderr || r.stdout || `exit ${r.status}`).trim()
      console.error(`[bench] taskset failed (${failed}): this run is not pinned`)
    }
  }
}

/**
 * `[cmd, args]` to spawn `cmd` already pinned (`taskset -c`), on the server's CPU (`'server'`) or the load
 * generator's (`'load'`); unchanged when not pinning. For a scenario that spawns its servers and wrk itself.
 */
export function pinnedCommand(side, cmd, args) {
  if (!PINNING) return [cmd, args]
  return [TASKSET, ['-c', String(side === 'server' ? SERVER_CPU : LOAD_CPU), cmd, ...args]]
}

/** Pins this process (and so everything it spawns from now on) to the load generator's CPU. */
export function pinLoadSide() {
  if (PINNING) pinTree(process.pid, LOAD_CPU)
}

/** Pins a measured server (and its child processes) to a CPU of its own. */
export function pinServer(pid) {
  if (PINNING) pinTree(pid, SERVER_CPU)
}

/** One line for a scenario's header: how the CPUs were shared. */
export function pinningNote() {
  if (PINNING && failed !== null) return `not pinned: taskset failed (${failed})`
  return PINNING
    ? `pinned: measured server on CPU ${SERVER_CPU}; load generator and origins on CPU ${LOAD_CPU}`
    : 'not pinned (BENCH_PIN=0, one CPU, or no taskset)'
}
