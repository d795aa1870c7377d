import net from 'node:net'
import { BadGatewayError, GatewayTimeoutError } from '@proxykit/core'
import type { ResolvedParent } from './options.js'

const MAX_HEAD = 16 * 1024
const noop = () => {}

/**
 * Opens a tunnel to `authority` through the parent proxy: dials it, sends `CONNECT authority` (with
 * `Proxy-Authorization` when configured) and resolves with the socket once the parent answers 2xx.
 * Bytes the parent sent after its head are put back on the socket. Anything else is a 502 (504 on time).
 */
export function dialThroughParent(
  parent: ResolvedParent,
  authority: string,
  timeoutMs: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const port = Number(parent.url.port || 80)
    const host = parent.url.hostname.replace(/^\[|\]$/g, '')
    const socket = net.connect({ host, port, allowHalfOpen: true })
    let head = Buffer.alloc(0)
    const fail = (err: Error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(err)
    }
    const timer = setTimeout(
      () => fail(new GatewayTimeoutError(`parent proxy did not open a tunnel to ${authority} in time`)),
      timeoutMs,
    )
    socket.on('error', noop)
    socket.once('error', (err) =>
      fail(new BadGatewayError(`parent proxy: ${(err as { code?: string }).code ?? err.message}`)),
    )
    socket.once('end', () => fail(new BadGatewayError('parent proxy closed the connection')))
    socket.once('connect', () => {
      let request = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`
      if (parent.authorization !== null) request += `Proxy-Authorization: ${parent.authorization}\r\n`
      socket.write(`${request}\r\n`)
    })
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) {
        if (head.length > MAX_HEAD) fail(new BadGatewayError('parent proxy sent an oversized head'))
        return
      }
      socket.removeListener('data', onData)
      socket.pause()
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))
      const code = status === null ? 0 : Number(status[1])
      if (code < 200 || code > 299) {
        fail(new BadGatewayError(`parent proxy answered ${code === 0 ? 'garbage' : code} to CONNECT`))
        return
      }
      clearTimeout(timer)
      socket.removeAllListeners('end')
      const rest = head.subarray(end + 4)
      if (rest.length > 0) socket.unshift(rest)
      resolve(socket)
    }
    socket.on('data', onData)
  })
}
