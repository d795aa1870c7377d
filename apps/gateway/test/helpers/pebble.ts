import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:https'
import net from 'node:net'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { TestCa } from './tls.js'

export async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}:\n${output()}`)
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (up) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listening on ${port} within 15 s:\n${output()}`)
}

function run(t: TestContext, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let output = ''
  child.stdout!.on('data', (c) => (output += c))
  child.stderr!.on('data', (c) => (output += c))
  child.on('error', (err) => (output += `\n${cmd}: ${err.message} (apt install pebble)`))
  const exited = once(child, 'exit')
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  })
  return { child, output: () => output }
}

export interface Pebble {
  directory: string
  /** Points a name's A record (pebble-challtestsrv's mock DNS) at an address. */
  setA(host: string, address: string): Promise<void>
  /** The PEM of the root Pebble issues under (changes with every run). */
  root(): Promise<string>
  output(): string
}

/**
 * Debian's Pebble (ACME test CA) on loopback with pebble-challtestsrv as its DNS (every name → 127.0.0.1
 * unless setA says otherwise), validating HTTP-01 on `httpPort` (the gateway's redirect listener).
 * Both are killed by PID in t.after.
 */
export async function startPebble(
  t: TestContext,
  ca: TestCa,
  dir: string,
  httpPort: number,
): Promise<Pebble> {
  const [dns, mgmt, api, apiMgmt, tlsPort] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()))
  const dnsSrv = run(t, 'pebble-challtestsrv', [
    '-dns01',
    `127.0.0.1:${dns}`,
    '-management',
    `127.0.0.1:${mgmt}`,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
    '-defaultIPv4',
    '127.0.0.1',
    '-defaultIPv6',
    '',
  ])
  await waitForPort(mgmt, dnsSrv.child, dnsSrv.output)
  const cert = await ca.issue(['localhost', '127.0.0.1'], { stem: 'pebble' })
  const config = join(dir, 'pebble-config.json')
  await writeFile(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${api}`,
        managementListenAddress: `127.0.0.1:${apiMgmt}`,
        certificate: cert.certFile,
        privateKey: cert.keyFile,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  )
  const pebble = run(t, 'pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dns}`], {
    PEBBLE_VA_NOSLEEP: '1',
    // No random nonce rejections, and every order proves its names again (no authorization reuse).
    PEBBLE_WFE_NONCEREJECT: '0',
    PEBBLE_AUTHZREUSE: '0',
  })
  await waitForPort(api, pebble.child, pebble.output)
  const agent = new Agent({ ca: ca.cert })
  return {
    directory: `https://127.0.0.1:${api}/dir`,
    async setA(host, address) {
      const body = JSON.stringify({ host, addresses: [address] })
      const res = await fetch(`http://127.0.0.1:${mgmt}/add-a`, { method: 'POST', body })
      if (!res.ok) throw new Error(`add-a: ${res.status}`)
    },
    root: () =>
      new Promise((resolve, reject) => {
        request(`https://127.0.0.1:${apiMgmt}/roots/0`, { agent }, (res) => {
          let pem = ''
          res.setEncoding('utf8')
          res.on('data', (c) => (pem += c))
          res.on('end', () => resolve(pem))
        })
          .on('error', reject)
          .end()
      }),
    output: () => `${dnsSrv.output()}\n${pebble.output()}`,
  }
}
