import pino, { type DestinationStream } from 'pino'

/**
 * POSIX's PIPE_BUF on Linux: a write of at most this many bytes to a pipe is atomic (never interleaved
 * with another process's writes, never partly done: a non-blocking pipe without room says EAGAIN and
 * the whole write is tried again).
 */
export const PIPE_BUF = 4096

/**
 * Where the gateway's log lines go by default: stdout, written asynchronously. A synchronous write per
 * access line (pino's default for stdout) was a system call per request on the event loop; here lines
 * written while one write is in flight go out together in the next. SIGTERM and SIGINT wait for every
 * line to be written before process.exit (shutdown.ts's flushLog), so a clean stop loses nothing; a
 * reload keeps the same logger, so it loses nothing either.
 *
 * With `workers`, every worker and the primary write to the one stdout pipe: each write is whole lines
 * of at most PIPE_BUF bytes (sonic-boom's `maxWrite` counts bytes and starts a new write rather than
 * split a line), so two processes' batches never interleave inside a line. Only a single line longer
 * than PIPE_BUF goes out alone in a larger write, which the pipe may interleave.
 */
export function stdoutDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, maxWrite: PIPE_BUF })
}
