import pino, { type DestinationStream } from 'pino'

/**
 * Where the gateway's log lines go by default: stdout, written asynchronously. A synchronous write per
 * access line (pino's default for stdout) was a system call per request on the event loop; here lines
 * written while one write is in flight go out together in the next. SIGTERM and SIGINT wait for every
 * line to be written before process.exit (shutdown.ts's flushLog), so a clean stop loses nothing; a
 * reload keeps the same logger, so it loses nothing either.
 */
export function stdoutDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false })
}
