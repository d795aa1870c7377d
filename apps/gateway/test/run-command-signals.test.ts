import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { writeConfig } from './helpers/cli.js'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

/** The command the root README gives for running the gateway with a config file, as written there. */
function readmeRunCommand(): string[] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8')
  const row = readme.split('\n').find((l) => l.startsWith('| `') && l.includes('--config FILE'))
  assert.ok(row !== undefined, 'the README has a row with the run command')
  return /^\| `([^`]+)`/.exec(row)![1]!.split(/\s+/)
}

/** Every process below `pid` (Linux /proc), so that the test can tell whether any is left behind. */
function descendants(pid: number): number[] {
  const out: number[] = []
  for (const task of (() => {
    try {
      return readdirSync(`/proc/${pid}/task`)
    } catch {
      return []
    }
  })()) {
    let children = ''
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
    } catch {}
    for (const c of children.split(' ').filter(Boolean).map(Number)) out.push(c, ...descendants(c))
  }
  return out
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(false)
    })
    s.once('error', () => resolve(true))
  })

// Issue 26 item 1: the README's `pnpm gateway --config FILE` put pnpm between the signals and the gateway:
// SIGHUP reloaded nothing and SIGTERM ended pnpm, leaving the gateway running. Whatever the README says to
// run must reload on SIGHUP and stop, with everything it started, on SIGTERM.
test("the README's run command reloads on SIGHUP and stops its whole process tree on SIGTERM", async (t) => {
  const a = await startOrigin({ handler: (_req, res) => res.end('a') })
  const b = await startOrigin({ handler: (_req, res) => res.end('b') })
  t.after(() => Promise.all([a.close(), b.close()]))
  const config = (upstream: string) => ({
    reverse: { listen: '127.0.0.1:0', routes: [{ name: 'web', upstreams: [upstream] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const file = await writeConfig(t, config(a.url), 'gateway.json')
  const [command, ...args] = readmeRunCommand().map((w) => (w === 'FILE' ? file : w))
  const child = spawn(command!, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const tree = new Set<number>([child.pid!])
  t.after(() => {
    for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL')
  })
  const exited = once(child, 'exit')
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c
  })
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    out += c
  })
  const until = async (pattern: RegExp, ms = 30_000) => {
    const deadline = Date.now() + ms
    while (!pattern.test(out)) {
      assert.ok(Date.now() < deadline, `no ${pattern} within ${ms} ms:\n${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    return pattern.exec(out)!
  }
  const url = (await until(/"listener":"reverse","url":"(http:[^"]+)"/))[1]!
  for (const pid of descendants(child.pid!)) tree.add(pid)
  const body = async () => (await (await request(`${url}/x`, { reset: true })).body.text()).trim()
  assert.equal(await body(), 'a')

  await writeFile(file, JSON.stringify(config(b.url)))
  child.kill('SIGHUP')
  await until(/"msg":"reloaded"/)
  assert.equal(await body(), 'b', 'SIGHUP applied the new upstream')

  for (const pid of descendants(child.pid!)) tree.add(pid)
  child.kill('SIGTERM')
  const [code] = await Promise.race([
    exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no exit after SIGTERM:\n${out}`)), 30_000),
    ),
  ])
  assert.equal(code, 0, out)
  const deadline = Date.now() + 10_000
  while ([...tree].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual([...tree].filter(alive), [], 'nothing it started is left running')
  assert.equal(await refused(Number(new URL(url).port)), true, 'the port is free')
})
