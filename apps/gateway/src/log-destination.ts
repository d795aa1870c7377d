import cluster from 'node:cluster'
import { write as fsWrite, writeSync } from 'node:fs'

/**
 * POSIX's PIPE_BUF on Linux: a write of at most this many bytes to a pipe is atomic (never interleaved
 * with another process's writes, never partly done: a non-blocking pipe without room says EAGAIN and
 * the whole write is tried again).
 */
export const PIPE_BUF = 4096

/** The most one write takes when no other process shares the descriptor. */
const LARGE_WRITE = 64 * 1024
/** Lines are written once this many characters wait, or FLUSH_MS after the first of them. */
const FLUSH_SIZE = 64 * 1024
const FLUSH_MS = 100
/** A full non-blocking pipe (EAGAIN) is tried again after this long. */
const RETRY_MS = 10
/** At exit (a crash, process.exit), how long a full pipe is waited for before the rest is dropped. */
const EXIT_WAIT_MS = 1000

export interface LineBufferOptions {
  /** The descriptor written (default 1, stdout). */
  fd?: number
  /**
   * The most one write takes, in bytes, cut at line ends. PIPE_BUF when other processes write to the
   * same pipe (`workers`): each write is then atomic, so lines from two processes never interleave.
   */
  maxWrite?: number
  /** Characters waiting that start a write at once (default 64 Ki). */
  flushSize?: number
  /** Milliseconds after which waiting lines are written whatever their size (default 100). */
  flushMs?: number
}

// Buffers with lines not yet written, for the synchronous flush at exit. A buffer is here only while it
// holds lines, so a gateway that stopped leaves nothing behind.
const unwritten = new Set<LineBuffer>()
let exitHooked = false
function flushAllSync(): void {
  for (const b of unwritten) b.flushSync()
}

/**
 * Where the gateway's log lines go: whole lines collected in memory and written together, at most every
 * FLUSH_MS or FLUSH_SIZE, by asynchronous writes (the event loop never waits for the reader of the pipe).
 * A line costs a string append; a write serves hundreds of lines.
 *
 * Why not sonic-boom (pino.destination), which this replaced: with `minLength` (its buffering) each line
 * costs a `Buffer.byteLength` of the whole buffer so far (quadratic in the lines a write carries), and
 * every finished write copies what it wrote into a new Buffer; without it, one write was issued per few
 * lines, each a thread-pool round trip. Neither met the access log's budget (bench/RESULTS.md, issue 28).
 *
 * Nothing is lost on a clean stop: `flush(cb)` (pino's `logger.flush`, which SIGTERM, SIGINT and the
 * gateway's close wait for) calls back once every line so far is written, and at process exit (a crash
 * included) what is left is written synchronously. A SIGKILL loses at most the last FLUSH_MS of lines.
 *
 * Each write is whole lines of at most `maxWrite` bytes (a single longer line goes alone): with PIPE_BUF
 * (`workers`: every process writes to the one stdout pipe) no two processes' lines interleave.
 */
export class LineBuffer {
  readonly #fd: number
  readonly #maxWrite: number
  readonly #flushSize: number
  readonly #flushMs: number
  /** Lines not yet encoded. */
  #pending = ''
  /** Encoded chunks (whole lines, at most maxWrite bytes each) in order; the first may be in flight. */
  #chunks: Buffer[] = []
  /** A write is under way: in flight, or waiting to be tried again. */
  #writing = false
  /** The first chunk is being written on the thread pool right now. */
  #inFlight = false
  #timer: NodeJS.Timeout | null = null
  #waiters: Array<(err?: Error) => void> = []
  #failed = false

  constructor(options: LineBufferOptions = {}) {
    this.#fd = options.fd ?? 1
    this.#maxWrite = options.maxWrite ?? LARGE_WRITE
    this.#flushSize = options.flushSize ?? FLUSH_SIZE
    this.#flushMs = options.flushMs ?? FLUSH_MS
    if (!exitHooked) {
      exitHooked = true
      process.once('exit', flushAllSync)
    }
  }

  /** pino's destination interface: `line` is one or more whole lines. */
  write(line: string): boolean {
    if (this.#failed) return true
    if (this.#pending.length === 0) {
      unwritten.add(this)
      if (this.#timer === null && !this.#writing) {
        this.#timer = setTimeout(this.#onTimer, this.#flushMs)
        this.#timer.unref()
      }
    }
    this.#pending += line
    if (this.#pending.length >= this.#flushSize) this.#start()
    return true
  }

  /** Calls back once every line written so far is out (pino's `logger.flush`). */
  flush(cb?: (err?: Error) => void): void {
    if (cb !== undefined) {
      if (this.#pending.length === 0 && !this.#writing) {
        process.nextTick(cb)
        return
      }
      this.#waiters.push(cb)
    }
    this.#start()
  }

  /** Writes everything left now, blocking (process exit). A pipe that stays full is given up on. */
  flushSync(): void {
    this.#clearTimer()
    this.#encode()
    // A write in flight on the thread pool is its first chunk: left to it (a syscall already under way).
    let i = this.#inFlight ? 1 : 0
    const deadline = Date.now() + EXIT_WAIT_MS
    while (i < this.#chunks.length && !this.#failed) {
      const chunk = this.#chunks[i]!
      try {
        const n = writeSync(this.#fd, chunk)
        if (n < chunk.length) this.#chunks[i] = chunk.subarray(n)
        else i++
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) break
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS)
      }
    }
    this.#chunks.length = this.#inFlight ? 1 : 0
    if (!this.#inFlight) unwritten.delete(this)
  }

  readonly #onTimer = (): void => {
    this.#timer = null
    this.#start()
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
  }

  /** Moves the pending lines into chunks of whole lines of at most maxWrite bytes. */
  #encode(): void {
    if (this.#pending.length === 0) return
    const buf = Buffer.from(this.#pending, 'utf8')
    this.#pending = ''
    const max = this.#maxWrite
    let start = 0
    while (start < buf.length) {
      let end = buf.length
      if (end - start > max) {
        // The last line end within max bytes; a single line longer than that goes alone.
        end = buf.lastIndexOf(0x0a, start + max - 1) + 1
        if (end <= start) end = buf.indexOf(0x0a, start) + 1 || buf.length
      }
      this.#chunks.push(start === 0 && end === buf.length ? buf : buf.subarray(start, end))
      start = end
    }
  }

  #start(): void {
    this.#clearTimer()
    this.#encode()
    if (!this.#writing) this.#next()
  }

  #next(): void {
    const chunk = this.#chunks[0]
    if (chunk === undefined || this.#failed) {
      this.#writing = false
      this.#chunks.length = 0
      if (this.#pending.length === 0) unwritten.delete(this)
      const waiters = this.#waiters
      if (waiters.length > 0) {
        this.#waiters = []
        for (const cb of waiters) cb()
      }
      return
    }
    this.#writing = true
    this.#inFlight = true
    fsWrite(this.#fd, chunk, 0, chunk.length, null, this.#written)
  }

  readonly #written = (err: NodeJS.ErrnoException | null, n: number): void => {
    this.#inFlight = false
    if (err !== null) {
      if (err.code === 'EAGAIN') {
        // A full non-blocking pipe: the same whole chunk again shortly (never a part of it, so that it
        // stays one atomic write).
        setTimeout(() => this.#next(), RETRY_MS).unref()
        return
      }
      // The reader is gone (EPIPE) or the descriptor is bad: nothing more can be written; serving goes on.
      this.#failed = true
      process.stderr.write(`proxykit-gateway: log lines can no longer be written: ${err.message}\n`)
    } else {
      const chunk = this.#chunks[0]!
      if (n < chunk.length) this.#chunks[0] = chunk.subarray(n)
      else this.#chunks.shift()
    }
    if (this.#chunks.length === 0 && this.#pending.length > 0) {
      // Lines logged while this write was in flight: on the timer or the size threshold, as usual.
      if (this.#pending.length >= this.#flushSize || this.#waiters.length > 0) this.#encode()
      else if (this.#timer === null) {
        this.#timer = setTimeout(this.#onTimer, this.#flushMs)
        this.#timer.unref()
      }
    }
    this.#next()
  }
}

/**
 * The gateway's stdout. With `workers`, every worker and the primary write to the one stdout pipe, so
 * each write is whole lines of at most PIPE_BUF bytes (see LineBuffer).
 */
export function stdoutDestination(shared = cluster.isWorker): LineBuffer {
  return new LineBuffer({ fd: 1, maxWrite: shared ? PIPE_BUF : LARGE_WRITE })
}
