import { once } from 'node:events'
import type { Logger } from 'pino'
import { accessWriterOf } from './access-line.js'
import type { Listener } from './listeners/app.js'

/**
 * Closes listeners gracefully: they stop accepting at once (idle keep-alive connections are closed, busy
 * ones are closed after their response), in-flight requests and CONNECT tunnels may go on for up to
 * `graceMs`, then every socket still open is cut and the Fastify instances are closed (plugins' onClose).
 */
export async function closeListeners(listeners: Listener[], graceMs: number, logger: Logger): Promise<void> {
  if (listeners.length === 0) return
  // Stop accepting now (Node also closes idle keep-alive connections); Fastify's own close comes after
  // the grace period, since the forward proxy closes its tunnels as soon as that starts. Each promise
  // resolves once the server's last connection has closed.
  const drained = listeners.map((l) => {
    l.closing = true
    return new Promise<void>((resolve) => l.app.server.close(() => resolve()))
  })
  let graceTimer: NodeJS.Timeout | undefined
  const graceOver = new Promise<void>((resolve) => {
    graceTimer = setTimeout(resolve, graceMs)
  })
  const inFlight = listeners.reduce((n, l) => n + l.inFlight, 0)
  if (inFlight > 0) logger.info({ inFlight, graceMs }, 'waiting for in-flight requests and tunnels')
  const timedOut = await Promise.race([
    Promise.all(listeners.map((l) => l.idle())).then(() => false),
    graceOver.then(() => true),
  ])
  clearTimeout(graceTimer)
  // Once every request is done, the sockets left are keep-alive connections between requests (or ended
  // after their last response, waiting for the client's FIN): closing them cuts nothing.
  const unfinished = timedOut ? listeners.reduce((n, l) => n + l.inFlight, 0) : 0
  let open = 0
  const closed: Promise<unknown>[] = []
  for (const l of listeners) {
    open += l.sockets.size
    for (const socket of l.sockets) {
      closed.push(once(socket, 'close'))
      socket.destroy()
    }
  }
  if (unfinished > 0)
    logger.warn(
      { connections: open, inFlight: unfinished, graceMs },
      'cut the connections still open after the grace period',
    )
  // Let the destroyed sockets emit 'close' (tunnels are logged then) before the plugins shut down.
  await Promise.race([Promise.all([...drained, ...closed]), new Promise((r) => setTimeout(r, 2000).unref())])
  await Promise.all(listeners.map((l) => l.app.close()))
}

/** Runs `close` once on the first SIGTERM or SIGINT; a second signal exits at once. */
export function onShutdownSignal(close: (signal: string) => Promise<void>, logger: Logger): void {
  let closing = false
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    closing = true
    close(signal).then(
      () => flushLog(logger).then(() => process.exit(0)),
      (err) => {
        logger.error({ err }, 'shutdown failed')
        void flushLog(logger).then(() => process.exit(1))
      },
    )
  }
  process.on('SIGTERM', handler)
  process.on('SIGINT', handler)
}

/**
 * Waits (at most `ms`) until every line logged so far is written: stdout's buffered lines
 * (log-destination.ts; the synchronous flush at exit does not wait for a full pipe, nor for a write
 * already in flight) and those handed to `log.file`'s transport thread.
 */
export function flushLog(logger: Logger, ms = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    const file = accessWriterOf(logger)?.flush() ?? Promise.resolve()
    try {
      logger.flush(() => void file.then(done, done))
    } catch {
      void file.then(done, done)
    }
  })
}
