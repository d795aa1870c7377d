import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import tls from 'node:tls'
import {
  BadGatewayError,
  BadRequestError,
  GatewayTimeoutError,
  ServiceUnavailableError,
  sendError,
} from '@proxykit/core'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type HeaderSettings, requestHeaders } from './headers.js'
import { websocketHead } from './internals.js'
import { escapesPrefix, upstreamPath } from './proxy.js'
import type { ProxyRoute } from './route.js'

/** Where our own 'upgrade' listener keeps the bytes that arrived after the request head. */
export const kUpgradeHead = Symbol('proxykit.upgradeHead')

const MAX_HEAD = 64 * 1024

/** Bytes the client sent after its request head: ours, or the ones @fastify/websocket kept. */
function upgradeHead(req: IncomingMessage): Buffer | null {
  const r = req as IncomingMessage & Record<symbol, unknown>
  const own = r[kUpgradeHead]
  if (Buffer.isBuffer(own)) return own.length === 0 ? null : own
  const theirs = websocketHead(req)
  return theirs === undefined || theirs.length === 0 ? null : theirs
}

function serializeHead(method: string, path: string, headers: OutgoingHttpHeaders): string {
  let head = `${method} ${path} HTTP/1.1\r\n`
  for (const name in headers) {
    const v = headers[name]
    if (v === undefined) continue
    if (Array.isArray(v)) for (const x of v) head += `${name}: ${x}\r\n`
    else head += `${name}: ${v}\r\n`
  }
  return `${head}\r\n`
}

/**
 * Proxies a request that arrived through the server's 'upgrade' event (WebSocket or any other protocol):
 * after the request went through Fastify's hooks like any other, it is sent to a balanced, healthy
 * upstream over a fresh connection; the upstream's answer is passed back byte for byte and, after a 101,
 * both sockets are piped together until either side closes, which closes the other.
 * `Upgrade: h2c` is refused: a cleartext HTTP/2 tunnel would carry requests past this proxy's routing and
 * every hook (the "h2c smuggling" attack).
 */
export function proxyUpgrade(
  route: ProxyRoute,
  settings: HeaderSettings,
  tunnels: Set<Duplex>,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  request.proxy.direction = 'reverse'
  // Not hijacked until the upstream answers: a refusal before that is an ordinary reply through Fastify's
  // error handler (the bridge ends the connection after it).
  const req = request.raw
  const client = req.socket
  const protocols = String(req.headers.upgrade ?? '')
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
  const escaped = escapesPrefix(req.url ?? '/')
  if (escaped !== null) {
    sendError(reply, escaped, { connection: 'close' })
    return
  }
  if (protocols.includes('h2c')) {
    sendError(reply, new BadRequestError('Upgrade: h2c is not supported through this proxy'), {
      connection: 'close',
    })
    return
  }
  const upstream = route.pick(request, [])
  if (upstream === null) {
    sendError(reply, new ServiceUnavailableError(`no healthy upstream for route '${route.options.name}'`), {
      'retry-after': String(route.retryAfter()),
      connection: 'close',
    })
    return
  }
  const headers = requestHeaders(request, route.options, settings, true)
  headers.host =
    route.options.preserveHost && req.headers.host !== undefined ? req.headers.host : upstream.authority
  const head = serializeHead(req.method ?? 'GET', upstreamPath(request, route), headers)
  const timeouts = route.options.timeouts
  request.proxy.upstream = { url: upstream.url, attempts: 1 }
  const seq = upstream.begin()

  let settled = false
  const conn: net.Socket = upstream.secure
    ? tls.connect({
        host: upstream.hostname,
        port: upstream.port,
        servername: net.isIP(upstream.hostname) === 0 ? upstream.hostname : undefined,
        ALPNProtocols: ['http/1.1'],
        ...(route.options.tls ?? {}),
      })
    : net.connect(upstream.port, upstream.hostname)
  let connected = false
  const fail = (err: Error, kind: 'connect' | 'headers' | 'other') => {
    if (settled) return
    settled = true
    upstream.end()
    conn.destroy()
    if (kind !== 'other') route.outcome(upstream, seq, null)
    const e =
      kind === 'connect'
        ? (err as { code?: string }).code === 'ETIMEDOUT'
          ? new GatewayTimeoutError(`no connection to the upstream within ${timeouts.connect} ms`, {
              cause: err,
            })
          : new BadGatewayError('the upstream refused the connection', { cause: err })
        : kind === 'headers'
          ? new GatewayTimeoutError(`the upstream did not answer within ${timeouts.headers} ms`, {
              cause: err,
            })
          : new BadGatewayError('the upstream closed the connection before answering', { cause: err })
    sendError(reply, e, { connection: 'close' })
  }
  const timer = setTimeout(() => {
    const err = Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })
    fail(err, connected ? 'headers' : 'connect')
  }, timeouts.connect)
  conn.on('error', (err) => fail(err, connected ? 'other' : 'connect'))
  // The client giving up before the upstream answered.
  const onClientClose = () => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    upstream.end()
    conn.destroy()
  }
  client.once('close', onClientClose)
  conn.once(upstream.secure ? 'secureConnect' : 'connect', () => {
    connected = true
    clearTimeout(timer)
    const headersTimer = setTimeout(() => fail(new Error('headers timeout'), 'headers'), timeouts.headers)
    conn.write(head)
    // Bytes the client sent after its head belong to the new protocol: they go on only after a 101.
    const early = upgradeHead(req)
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      size += chunk.length
      const buf = chunks.length === 1 ? chunk : Buffer.concat(chunks)
      if (buf.indexOf('\r\n\r\n') === -1) {
        if (size > MAX_HEAD) {
          clearTimeout(headersTimer)
          fail(new Error('response head too large'), 'other')
        }
        return
      }
      conn.removeListener('data', onData)
      conn.removeListener('end', onEnd)
      clearTimeout(headersTimer)
      if (settled) return
      settled = true
      client.removeListener('close', onClientClose)
      // The upstream answered: what follows is its bytes on the client's socket, no longer a reply.
      reply.hijack()
      upstream.end()
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString('latin1', 0, 12))
      const switched = status?.[1] === '101'
      if (status !== null) route.outcome(upstream, seq, Number(status[1]))
      upstream.tunnels++
      tunnels.add(client)
      const closeBoth = () => {
        if (!client.destroyed) client.destroy()
        if (!conn.destroyed) conn.destroy()
      }
      client.once('close', () => {
        closeBoth()
        tunnels.delete(client)
      })
      conn.once('close', () => {
        upstream.tunnels--
        closeBoth()
      })
      client.on('error', closeBoth)
      client.setTimeout(0)
      client.setNoDelay(true)
      conn.setNoDelay(true)
      if (switched) {
        if (early !== null) conn.write(early)
        client.write(buf)
        conn.pipe(client)
        client.pipe(conn)
        return
      }
      // Refused (no 101): the answer goes back and the connection ends with it. Nothing more from the
      // client may reach this raw upstream socket, or a second request would skip routing and every
      // hook ("WebSocket smuggling" through a failed upgrade).
      const headEnd = buf.indexOf('\r\n\r\n') + 4
      const length = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i.exec(
        buf.subarray(0, headEnd).toString('latin1'),
      )
      let remaining = length === null ? -1 : Number(length[1]) - (buf.length - headEnd)
      client.write(
        buf.subarray(0, length === null ? buf.length : Math.min(buf.length, headEnd + Number(length[1]))),
      )
      client.resume() // discard whatever else the client sends
      if (remaining <= 0 && length !== null) {
        client.end()
        conn.destroy()
        return
      }
      conn.setTimeout(timeouts.idle, () => closeBoth())
      conn.on('data', (chunk: Buffer) => {
        if (remaining === -1) {
          client.write(chunk)
          return
        }
        client.write(chunk.subarray(0, remaining))
        remaining -= chunk.length
        if (remaining <= 0) {
          client.end()
          conn.destroy()
        }
      })
      conn.once('end', () => client.end())
    }
    const onEnd = () => {
      clearTimeout(headersTimer)
      fail(new Error('upstream closed before answering'), 'other')
    }
    conn.on('data', onData)
    conn.once('end', onEnd)
  })
}
