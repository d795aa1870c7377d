import { execFile } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { rawRequest } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import forwardProxy, { type ForwardProxyOptions } from '../src/index.js'

export interface Proxy {
  app: FastifyInstance
  port: number
  url: string
}

/** A Fastify app with the forward proxy on a loopback port; `setup` registers things before it. */
export async function startProxy(
  options: ForwardProxyOptions = {},
  setup?: (app: FastifyInstance) => Promise<void> | void,
): Promise<Proxy> {
  const app = Fastify()
  if (setup) await setup(app)
  await app.register(forwardProxy, { allow: ['127.0.0.1/32'], ...options })
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
