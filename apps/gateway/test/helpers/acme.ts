import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { curl, type RunningGateway, type RunResult } from './cli.js'
import type { Pebble } from './pebble.js'
import type { TestCa } from './tls.js'

/**
 * The `reverse` section of a gateway ordering `acme.test` from Pebble (ACME e-mail ops@acme.test, Pebble's
 * certificate trusted through `caFile`), answering HTTP-01 on `redirectPort`, proxying to `upstream`.
 */
export function acmeReverse(
  pebble: Pebble,
  ca: TestCa,
  o: {
    storage: string
    redirectPort: number
    upstream: string
    renewBefore?: string
    certs?: Array<{ cert: string; key: string }>
  },
): Record<string, unknown> {
  return {
    listen: '127.0.0.1:0',
    tls: {
      ...(o.certs === undefined ? {} : { certs: o.certs }),
      acme: {
        directory: pebble.directory,
        email: 'ops@acme.test',
        domains: ['acme.test'],
        caFile: ca.certFile,
        storage: o.storage,
        ...(o.renewBefore === undefined ? {} : { renewBefore: o.renewBefore }),
      },
    },
    redirectHttp: `127.0.0.1:${o.redirectPort}`,
    routes: [{ upstreams: [o.upstream] }],
  }
}

/**
 * A TCP relay between Pebble's HTTP-01 checks and the gateways, as a balancer would stand: each
 * connection waits, paused, until `target` names the port it goes to. Listens on a port of its own
 * choosing (port 0: no port picked in advance that another process could take meanwhile) and resolves
 * it, for Pebble's `httpPort`. Closed in t.after.
 */
export async function startChallengeRelay(t: TestContext, target: () => Promise<number>): Promise<number> {
  const relay = net.createServer(async (inbound) => {
    inbound.pause()
    inbound.on('error', () => {})
    let port: number
    try {
      port = await target()
    } catch {
      // No instance to send it to: the CA sees a refused check, as behind a balancer with none healthy.
      inbound.destroy()
      return
    }
    const outbound = net.connect(port, '127.0.0.1')
    outbound.on('error', () => inbound.destroy())
    inbound.pipe(outbound).pipe(inbound)
    inbound.resume()
  })
  relay.listen(0, '127.0.0.1')
  await once(relay, 'listening')
  t.after(() => {
    relay.close()
  })
  return (relay.address() as net.AddressInfo).port
}

/** The port of `gw`'s plain redirect listener (`redirectHttp`), from its own `listening` line. */
export function redirectPortOf(gw: RunningGateway): number {
  const line = gw.logs.find((l) => l.event === 'listening' && l.listener === 'redirect')
  if (line === undefined) throw new Error('the gateway logged no listening line for its redirect listener')
  return Number(new URL(line.url as string).port)
}

/** `curl https://acme.test:<port>/x` trusting only Pebble's root (written into `dir`), body discarded. */
export async function curlAcmeTest(pebble: Pebble, dir: string, port: number): Promise<RunResult> {
  const rootFile = join(dir, 'pebble-root.pem')
  await writeFile(rootFile, await pebble.root())
  return curl([
    '--cacert',
    rootFile,
    '--resolve',
    `acme.test:${port}:127.0.0.1`,
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `https://acme.test:${port}/x`,
  ])
}

/** The gateway's `acme: certificate issued` line; on a timeout, the error carries Pebble's output. */
export function certificateIssued(
  gw: RunningGateway,
  pebble: Pebble,
  timeoutMs = 240_000,
): Promise<Record<string, unknown>> {
  return gw
    .waitForLog((l) => l.msg === 'acme: certificate issued', timeoutMs)
    .catch((err: Error) => {
      throw new Error(`${err.message}\npebble:\n${pebble.output()}`)
    })
}
