import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

/** One HAProxy frontend on loopback, relaying TCP to `to` with a PROXY header. */
export interface HaproxyFrontend {
  /** The gateway listener's port. */
  to: number
  send: 'send-proxy' | 'send-proxy-v2'
  /** The address HAProxy connects from (default 127.0.0.1). */
  source?: string
}

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/**
 * Starts Debian's haproxy (`-db`: foreground) in TCP mode with one frontend per entry, each on a
 * loopback port of its own; resolves with those ports once every one accepts. Killed by PID in t.after.
 */
export async function startHaproxy(t: TestContext, frontends: HaproxyFrontend[]): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-haproxy-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const ports = await Promise.all(frontends.map(() => freePort()))
  const sections = frontends.map(
    (f, i) => `
listen f${i}
  bind 127.0.0.1:${ports[i]}
  server gateway 127.0.0.1:${f.to} ${f.send}${f.source === undefined ? '' : ` source ${f.source}`}
`,
  )
  const file = join(dir, 'haproxy.cfg')
  await writeFile(
    file,
    `global
  maxconn 256
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
${sections.join('')}`,
  )
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (c) => (output += c))
  child.stderr!.on('data', (c) => (output += c))
  const exited = once(child, 'exit')
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  })
  const spawned = await Promise.race([
    once(child, 'spawn').then(() => null),
    once(child, 'error').then(([e]) => e as Error),
  ])
  if (spawned !== null) throw new Error(`haproxy could not start (apt install haproxy): ${spawned.message}`)
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}:\n${output}`)
    const up = await Promise.all(ports.map(accepting))
    if (up.every(Boolean)) return ports
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`haproxy did not accept within 10 s:\n${output}`)
}
