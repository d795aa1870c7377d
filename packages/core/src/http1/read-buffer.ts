import type net from 'node:net'

const READ_SIZE = 64 * 1024
let shared: Buffer | null = null

/**
 * One read buffer for every socket this process opens with `net.connect`'s `onread` (the upstream
 * connections of `Http1Pool`, the forward proxy's tunnels). A read fills it and calls back synchronously
 * (libuv reads one socket at a time on this thread), and each callback copies out what it keeps before
 * returning, so it is free again for whichever socket reads next. Allocated on first use.
 *
 * A stream read instead allocates 64 KiB with `malloc` per read, shrinks it with `realloc`, wraps it in an
 * ArrayBuffer and a Buffer, pushes it through the Readable and emits `'data'`: several times the work of the
 * copy done here (`node bench/forward-proxy.mjs instructions`), and churn in the allocator's heap.
 */
export function sharedReadBuffer(): Buffer {
  shared ??= Buffer.allocUnsafeSlow(READ_SIZE)
  return shared
}

/**
 * `onread` options for `net.connect` that hand each read to `onChunk` as a Buffer of its own (a copy out
 * of the shared buffer: small reads come from Node's Buffer pool, no `malloc`). `onChunk` returning false
 * pauses the socket until `socket.resume()` (backpressure), as `socket.pause()` does; `'end'`, `'error'`
 * and `'close'` are emitted as usual.
 */
export function directRead(onChunk: (chunk: Buffer) => unknown): net.OnReadOpts {
  return {
    buffer: sharedReadBuffer(),
    callback(n: number, buf: Uint8Array): boolean {
      const chunk = Buffer.allocUnsafe(n)
      chunk.set(n === buf.length ? buf : buf.subarray(0, n))
      return onChunk(chunk) !== false
    },
  }
}
