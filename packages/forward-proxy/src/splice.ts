import net from 'node:net'
import { directRead, watchIdle } from '@proxykit/core'

/**
 * Where a directly dialled upstream socket's bytes go: set by `splice`. Until then the socket is paused
 * (it reads nothing, so nothing can be lost).
 */
interface DirectSink {
  client: net.Socket | null
}

const kSink = Symbol('proxykit.tunnelSink')
type DirectSocket = net.Socket & { [kSink]?: DirectSink }

/**
 * Opens a TCP connection whose reads skip Node's stream machinery: each read lands in core's shared read
 * buffer and is written to the tunnel's client as a copy (core's `directRead`, which says what a stream
 * read costs). For small exchanges inside a tunnel, stream reads are a large share of the proxy's own
 * work (`node bench/forward-proxy.mjs instructions`). The socket starts
 * paused; `splice` resumes it once the client is answered.
 */
export function connectDirect(address: string, port: number): net.Socket {
  const sink: DirectSink = { client: null }
  const socket: DirectSocket = net.connect({
    host: address,
    port,
    allowHalfOpen: true,
    // A copy of each read (directRead): the write may be queued (a slow client), and the shared buffer is
    // reused by the next read. false pauses this socket (backpressure) until the client drains.
    onread: directRead((chunk) => {
      const client = sink.client
      if (client === null || client.destroyed) return false
      return client.write(chunk)
    }),
  })
  socket[kSink] = sink
  socket.pause()
  return socket
}

/**
 * Relays two sockets both ways with backpressure (the faster side is paused while the other drains). A FIN
 * from one side is passed on as a FIN to the other while the opposite direction keeps flowing
 * (half-close). A socket that closes cleanly (both directions ended) leaves the other to finish flushing
 * what it still holds and close by itself; an error, an abrupt close or `idleMs` in which neither side
 * sends a byte destroys both. Silence is noticed from the sockets' byte counters (core's `watchIdle`), not
 * by socket timeouts, which re-arm a timer on every read and write of every relayed chunk.
 *
 * The client's bytes go upstream by `pipe`. An upstream opened by `connectDirect` hands its reads to the
 * client itself (see there); any other upstream (one through a parent proxy) is piped too.
 */
export function splice(client: net.Socket, upstream: net.Socket, idleMs: number): void {
  const destroyBoth = () => {
    client.destroy()
    upstream.destroy()
  }
  const stopWatching = watchIdle(client, upstream, idleMs, destroyBoth)
  let open = 2
  const onClose = (socket: net.Socket, other: net.Socket) => () => {
    if (--open === 0) stopWatching()
    if (!(socket.readableEnded && socket.writableFinished)) other.destroy()
  }
  client.on('error', destroyBoth)
  upstream.on('error', destroyBoth)
  client.on('close', onClose(client, upstream))
  upstream.on('close', onClose(upstream, client))
  client.pipe(upstream)
  const sink = (upstream as DirectSocket)[kSink]
  if (sink === undefined) {
    upstream.pipe(client)
    return
  }
  sink.client = client
  client.on('drain', () => upstream.resume())
  // Like pipe: the upstream's FIN ends the client's side once what was written is flushed.
  upstream.once('end', () => client.end())
  upstream.resume()
}
