import cluster from 'node:cluster'
import { extname } from 'node:path'
import pino, { type Logger, type LoggerOptions } from 'pino'
import type { GatewayConfig } from './config/types.js'

// `log.file` and `log.fields`: access lines to a file rotated by size and time (pino-roll, a pino
// transport: the writing and rotating happen in its worker thread, off the request path), and the
// fields an access line keeps. Access lines written by access-log.ts go straight to the file's stream
// (access-line.ts); the few others logged through pino (a malformed request, a refused CONNECT, or any
// line of a logger the embedder passed) go through the logger's `logMethod` hook below, to the same place.

type LogMethod = NonNullable<NonNullable<LoggerOptions['hooks']>['logMethod']>

/** With `workers`, each worker rolls its own file (`access.log` → `access.w2.log`): one writer per file. */
function filePath(path: string): string {
  if (!cluster.isWorker || cluster.worker === undefined) return path
  const ext = extname(path)
  return `${path.slice(0, path.length - ext.length)}.w${cluster.worker.id}${ext}`
}

type FileConfig = NonNullable<GatewayConfig['log']['file']>
type Stream = ReturnType<typeof pino.transport>

/**
 * The access-log file: the pino-roll transport, started at the first line (a process that writes none,
 * the primary of `workers`, opens no file), and a pino logger on it for lines logged through pino.
 */
export class AccessFile {
  readonly #config: FileConfig
  #stream: Stream | null = null
  #logger: Logger | null = null

  constructor(config: FileConfig) {
    this.#config = config
  }

  get stream(): Stream {
    if (this.#stream !== null) return this.#stream
    const file = this.#config
    this.#stream = pino.transport({
      target: 'pino-roll',
      options: {
        file: filePath(file.path),
        mkdir: true,
        ...(file.rotate.sizeBytes === null
          ? {}
          : { size: `${Math.max(1, Math.ceil(file.rotate.sizeBytes / 1024))}k` }),
        ...(file.rotate.everyMs === null ? {} : { frequency: file.rotate.everyMs }),
        ...(file.rotate.keep === null ? {} : { limit: { count: file.rotate.keep } }),
      },
    })
    return this.#stream
  }

  get logger(): Logger {
    this.#logger ??= pino({ base: { pid: process.pid } }, this.stream)
    return this.#logger
  }

  /** One or more whole lines, serialized already. */
  write(lines: string): void {
    this.stream.write(lines)
  }

  /** Calls back once the lines written so far are handed to the transport's thread (none: at once). */
  flush(cb: () => void): void {
    if (this.#stream === null) cb()
    else this.#stream.flush(() => cb())
  }
}

/**
 * The `logMethod` hook for access lines logged through pino: keeps only `log.fields` (when set; on stdout
 * the bindings, `listener`, and `reqId` stay), and sends them to the file instead of the main destination
 * (when `log.file` is set). Null when neither is set. `next` is the hook this one wraps (the dashboard's
 * denial feed), which still sees every line whole.
 */
export function accessLogHook(
  config: GatewayConfig,
  next?: LogMethod,
  file: AccessFile | null = config.log.file === null ? null : new AccessFile(config.log.file),
): LogMethod | null {
  const { fields } = config.log
  if (file === null && fields === null) return next ?? null
  const keep = fields === null ? null : new Set(fields)
  return function (this: Logger, args, method, level) {
    const [obj, msg] = args as unknown[]
    const write = (...a: unknown[]) => {
      if (msg !== 'access' || typeof obj !== 'object' || obj === null) return method.apply(this, a as never)
      let line = obj as Record<string, unknown>
      if (keep !== null) {
        const picked: Record<string, unknown> = {}
        for (const k in line) if (keep.has(k) || (file === null && k === 'reqId')) picked[k] = line[k]
        line = picked
      }
      if (file === null) return method.apply(this, [line, msg] as never)
      const bindings = this.bindings() as Record<string, unknown>
      const own: Record<string, unknown> = {}
      // The file logger writes its own pid.
      for (const k in bindings) if (k !== 'pid' && (keep === null || keep.has(k))) own[k] = bindings[k]
      file.logger.info({ ...own, ...line }, 'access')
    }
    if (next === undefined) return write(...(args as unknown[]))
    return next.call(this, args, write as never, level)
  }
}
