import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import { installProxyContext } from '@proxykit/core'
import { rawRequest } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import forwardProxy, { type ForwardProxyOptions, type LookupFunction } from '../src/index.js'

/** Tests resolve no real name: `localhost` only, everything else does not exist. */
export const loopbackLookup: LookupFunction = async (name) => {
  if (name === 'localhost') return [{ address: '127.0.0.1', family: 4 }]
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
}

export interface Proxy {
  app: FastifyInstance
  port: number
  url: string
}

/**
 * A Fastify app with the forward proxy on a loopback port; `setup` registers things before it. Whatever
 * the options allow, a connect guard keeps every test's traffic on loopback (a browser's background
 * requests included).
 */
export async function startProxy(
  options: ForwardProxyOptions = {},
  setup?: (app: FastifyInstance) => Promise<void> | void,
): Promise<Proxy> {
  const app = Fastify()
  installProxyContext(app)
  app.addHook('onRequest', async (request) => {
    request.proxy?.connectGuards.push((address) =>
      address.startsWith('127.') || address === '::1' ? null : 'tests stay on loopback',
    )
  })
  if (setup) await setup(app)
  await app.register(forwardProxy, { allow: ['127.0.0.1/32'], lookup: loopbackLookup, ...options })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  return { app, port, url: `http://127.0.0.1:${port}` }
}

export interface CurlResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs curl without blocking the event loop (the proxy under test lives in this process). */
export function curl(args: string[], timeoutMs = 20_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-sS', '--noproxy', '', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args],
      { maxBuffer: 16 * 1024 * 1024, env: { PATH: process.env.PATH ?? '' } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** rawRequest with room for a loaded machine: resolves when the proxy closes, or after 2 s of silence. */
export function send(port: number, bytes: string) {
  return rawRequest(port, bytes, { idleMs: 2000, timeoutMs: 15_000 })
}

/** Opens a CONNECT tunnel to 127.0.0.1:`port` through the proxy; resolves the client socket once the 200 is in. */
export async function openTunnel(proxyPort: number, port: number): Promise<net.Socket> {
  const client = net.connect(proxyPort, '127.0.0.1')
  client.on('error', () => {})
  await once(client, 'connect')
  client.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`)
  const [head] = (await once(client, 'data')) as [Buffer]
  assert.match(head.toString(), /^HTTP\/1\.1 200 /)
  return client
}
