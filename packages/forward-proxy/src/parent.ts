import net from 'node:net'
import {
  type RequestHead,
  ResponseHeadReader,
  requestHead,
  UpstreamBadRequestError,
  UpstreamBadResponseError,
  UpstreamClosedError,
  UpstreamConnectTimeoutError,
  upstreamFailure,
} from '@proxykit/core'
import type { ResolvedParent } from './options.js'

const MAX_HEAD = 16 * 1024
const noop = () => {}

/** `CONNECT authority` for the parent, by core's request-head writer (names and values checked). */
function connectHead(parent: ResolvedParent, authority: string): RequestHead | string {
  const headers: Record<string, string> = { host: authority }
  if (parent.authorization !== null) headers['proxy-authorization'] = parent.authorization
  return requestHead('CONNECT', authority, headers, authority, false)
}

/**
 * Opens a tunnel to `authority` through the parent proxy: dials it, sends `CONNECT authority` (with
 * `Proxy-Authorization` when configured) and resolves with the socket once the parent answers 2xx, its
 * head read by core's parser. Bytes the parent sent after its head are put back on the socket. Anything
 * else rejects with a member of core's `PK_UPSTREAM` family (a connect timeout when it takes too long).
 */
export function dialThroughParent(
  parent: ResolvedParent,
  authority: string,
  timeoutMs: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const head = connectHead(parent, authority)
    if (typeof head === 'string') {
      reject(new UpstreamBadRequestError(`CONNECT to the parent proxy: ${head}`))
      return
    }
    const port = Number(parent.url.port || 80)
    const host = parent.url.hostname.replace(/^\[|\]$/g, '')
    const socket = net.connect({ host, port, allowHalfOpen: true })
    const reader = new ResponseHeadReader('CONNECT', MAX_HEAD)
    const fail = (err: Error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(err)
    }
    const timer = setTimeout(
      () =>
        fail(new UpstreamConnectTimeoutError(`parent proxy did not open a tunnel to ${authority} in time`)),
      timeoutMs,
    )
    socket.on('error', noop)
    socket.once('error', (err) => fail(upstreamFailure(err)))
    socket.once('end', () => fail(new UpstreamClosedError('parent proxy closed the connection')))
    socket.once('connect', () => socket.write(head.text))
    const onData = (chunk: Buffer) => {
      const read = reader.push(chunk)
      if (read === null) return
      if (read instanceof Error) {
        fail(read)
        return
      }
      socket.removeListener('data', onData)
      socket.pause()
      const code = read.head.statusCode
      if (code < 200 || code > 299) {
        fail(new UpstreamBadResponseError(`parent proxy answered ${code} to CONNECT`))
        return
      }
      clearTimeout(timer)
      socket.removeAllListeners('end')
      const rest = read.bytes.subarray(read.offset)
      if (rest.length > 0) socket.unshift(rest)
      resolve(socket)
    }
    socket.on('data', onData)
  })
}
