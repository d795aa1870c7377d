#!/usr/bin/env node
// Runs the benchmark scenarios one after another: every bench/*.mjs, or the ones named on the command line
// (`node bench/run.mjs core forward-proxy`). Each runs as its own process group and is stopped after
// BENCH_TIMEOUT seconds (default 1200) if it has not ended by itself. Files starting with `_` or ending in
// `-tmp.mjs` are scratch and skipped. Exit status: 0 when every scenario ended cleanly.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const DIR = dirname(fileURLToPath(import.meta.url))
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT ?? 1200)

const available = readdirSync(DIR)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_') && !f.endsWith('-tmp.mjs'))
  .map((f) => basename(f, '.mjs'))
  .sort()

const wanted = process.argv.slice(2).map((a) => basename(a, '.mjs'))
const unknown = wanted.filter((w) => !available.includes(w))
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; available: ${available.join(', ')}`)
  process.exit(2)
}
const scenarios = wanted.length > 0 ? wanted : available

let current = null

function run(name) {
  return new Promise((resolve) => {
    const started = Date.now()
    // detached: the scenario and the servers it starts form one process group we can stop together.
    const child = spawn(process.execPath, [join(DIR, `${name}.mjs`)], { stdio: 'inherit', detached: true })
    let timedOut = false
    current = (signal) => kill(signal)
    const kill = (signal) => {
      try {
        process.kill(-child.pid, signal)
      } catch {}
    }
    const timer = setTimeout(() => {
      timedOut = true
      console.error(`\n[bench] ${name}: still running after ${TIMEOUT_S} s, stopping it`)
      kill('SIGTERM')
      setTimeout(() => kill('SIGKILL'), 5000).unref()
    }, TIMEOUT_S * 1000)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      current = null
      // Whatever the scenario left behind in its group goes too.
      kill('SIGTERM')
      resolve({ name, code, signal, timedOut, seconds: (Date.now() - started) / 1000 })
    })
  })
}

let interrupted = false
process.on('SIGINT', () => {
  // The scenario runs in its own process group, so Ctrl-C does not reach it: pass it on.
  interrupted = true
  current?.('SIGTERM')
})

const outcomes = []
for (const name of scenarios) {
  if (interrupted) break
  console.log(`\n===== bench/${name}.mjs =====`)
  outcomes.push(await run(name))
}

console.log('\n===== summary =====')
for (const o of outcomes) {
  const status = o.timedOut ? 'TIMED OUT' : o.code === 0 ? 'ok' : `failed (${o.signal ?? o.code})`
  console.log(`${o.name.padEnd(20)} ${status.padEnd(14)} ${o.seconds.toFixed(0)} s`)
}
process.exit(outcomes.every((o) => o.code === 0 && !o.timedOut) && !interrupted ? 0 : 1)
