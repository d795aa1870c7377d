import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'

/** The built CLI (dist/src/cli.js), run the way `proxykit-gateway` runs. */
export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url))

/** Writes a config file (an object is written as JSON unless the name says .yaml) in a fresh temp dir. */
export async function writeConfig(
  t: TestContext,
  content: string | object,
  name = 'gateway.yaml',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-gw-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, name)
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return file
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI to completion (for --check and --help). */
export function runCli(args: string[], timeoutMs = 90_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null
      resolve({ code, stdout, stderr })
    })
  })
}

export interface RunningGateway {
  child: ChildProcess
  urls: { forward?: string; reverse?: string; admin?: string }
  /** Every JSON line logged so far. */
  logs: Array<Record<string, unknown>>
  /** Everything written to stdout so far (banner included). */
  stdout(): string
  stderr(): string
  /** Resolves with the first log line matching, or rejects after timeoutMs. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  exited: Promise<number | null>
}

/**
 * Starts the CLI as a child process and resolves once every listener it starts has logged its URL
 * (`{"event":"listening"}` lines). Killed in t.after if the test left it running.
 */
export async function startCli(
  t: TestContext,
  args: string[],
  expect: string[],
  timeoutMs = 90_000,
): Promise<RunningGateway> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let pending = ''
  const logs: Array<Record<string, unknown>> = []
  const watchers = new Set<() => void>()
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (c: string) => {
    err += c
  })
  child.stdout!.on('data', (c: string) => {
    out += c
    pending += c
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      try {
        logs.push(JSON.parse(line))
      } catch {}
    }
    for (const w of watchers) w()
  })
  // 'close', not 'exit': by then stdout has been read to its end.
  const exited = once(child, 'close').then(([code]) => code as number | null)
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const waitForLog: RunningGateway['waitForLog'] = (match, ms = timeoutMs) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = logs.find(match)
        if (found !== undefined) {
          cleanup()
          resolve(found)
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no matching log line within ${ms} ms\nstdout:\n${out}\nstderr:\n${err}`))
      }, ms)
      const onExit = () => {
        cleanup()
        reject(new Error(`gateway exited (${child.exitCode})\nstdout:\n${out}\nstderr:\n${err}`))
      }
      const cleanup = () => {
        clearTimeout(timer)
        watchers.delete(check)
        child.removeListener('exit', onExit)
      }
      watchers.add(check)
      child.once('exit', onExit)
      check()
    })
  const urls: RunningGateway['urls'] = {}
  for (const name of expect) {
    const line = await waitForLog((l) => l.event === 'listening' && l.listener === name)
    urls[name as keyof typeof urls] = line.url as string
  }
  return {
    child,
    urls,
    logs,
    stdout: () => out,
    stderr: () => err,
    waitForLog,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

/** Runs curl and resolves with its exit code, stdout and stderr. */
export function curl(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-s', '--max-time', String(timeoutMs / 1000), ...args],
      { timeout: timeoutMs + 2000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** curl's `-w '%{http_code}'` status of a request (body discarded). */
export async function curlStatus(args: string[]): Promise<number> {
  const r = await curl(['-o', '/dev/null', '-w', '%{http_code}', ...args])
  return Number(r.stdout)
}
