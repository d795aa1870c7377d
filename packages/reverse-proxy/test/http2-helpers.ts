import { execFile } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { promisify } from 'node:util'
import { selfSignedCertificate } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import reverseProxy, { type ReverseProxyOptions } from '../src/index.js'

const run = promisify(execFile)

export interface H2Proxy {
  app: FastifyInstance
  port: number
  /** `https://127.0.0.1:PORT` (`http://` for cleartext). */
  url: string
  cert: string
  /** `request.raw.httpVersion` of every request the app saw, in order: which protocol really arrived. */
  versions: string[]
}

/**
 * The reverse proxy on `Fastify({ http2: true, https: { allowHTTP1: true } })` (HTTP/2 and HTTP/1.1 on
 * one TLS port, chosen by ALPN), or on a cleartext HTTP/2 server (prior knowledge only) with `tls: false`.
 */
export async function startH2Proxy(
  t: TestContext,
  options: ReverseProxyOptions,
  tls = true,
): Promise<H2Proxy> {
  const { key, cert } = await selfSignedCertificate()
  // Typed as the default instance: the two server types make a union no `register` overload accepts.
  const app = (tls
    ? Fastify({ http2: true, https: { allowHTTP1: true, key, cert } })
    : Fastify({ http2: true })) as unknown as FastifyInstance
  const versions: string[] = []
  app.addHook('onRequest', async (request) => {
    versions.push(request.raw.httpVersion)
  })
  await app.register(reverseProxy, options)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  return { app, port, url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, cert, versions }
}

export interface CurlResult {
  status: number
  /** `%{http_version}`: `2` or `1.1`. */
  version: string
  headers: Record<string, string>
  body: string
}

/** One request with the real curl (`--http2`, `--http1.1`, `--http2-prior-knowledge` …), certificate unchecked. */
export async function curl(url: string, args: string[]): Promise<CurlResult> {
  const { stdout } = await run(
    'curl',
    ['-sk', '--max-time', '10', '-D', '-', '-w', '\n%{http_version}', ...args, url],
    { maxBuffer: 1 << 24 },
  )
  const end = stdout.indexOf('\r\n\r\n')
  const head = stdout.slice(0, end).split('\r\n')
  const rest = stdout.slice(end + 4)
  const nl = rest.lastIndexOf('\n')
  const headers: Record<string, string> = {}
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return {
    status: Number(head[0]!.split(' ')[1]),
    version: rest.slice(nl + 1),
    headers,
    body: rest.slice(0, nl),
  }
}
