import cluster from 'node:cluster'
import { extname } from 'node:path'
import pino, { type Logger, type LoggerOptions } from 'pino'
import type { GatewayConfig } from './config/types.js'

// `log.file` and `log.fields`: access lines to a file rotated by size and time (pino-roll, a pino
// transport: the writing and rotating happen in its worker thread, off the request path), and the
// fields an access line keeps. Done in the logger's `logMethod` hook, so the access log's producer
// (access-log.ts) is the same whatever the destination.

type LogMethod = NonNullable<NonNullable<LoggerOptions['hooks']>['logMethod']>

/** With `workers`, each worker rolls its own file (`access.log` → `access.w2.log`): one writer per file. */
function filePath(path: string): string {
  if (!cluster.isWorker || cluster.worker === undefined) return path
  const ext = extname(path)
  return `${path.slice(0, path.length - ext.length)}.w${cluster.worker.id}${ext}`
}

function fileLogger(file: NonNullable<GatewayConfig['log']['file']>): Logger {
  const transport = pino.transport({
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
  return pino({ base: { pid: process.pid } }, transport)
}

/**
 * The `logMethod` hook for access lines: keeps only `log.fields` (when set), and sends them to the file
 * instead of the main destination (when `log.file` is set). Null when neither is set. `next` is the hook
 * this one wraps (the dashboard's denial feed), which still sees every line whole.
 */
export function accessLogHook(config: GatewayConfig, next?: LogMethod): LogMethod | null {
  const { file, fields } = config.log
  if (file === null && fields === null) return next ?? null
  // Made at the first access line: a process that writes none (the primary of `workers`) opens no file.
  let out: Logger | null = null
  const keep = fields === null ? null : new Set(fields)
  return function (this: Logger, args, method, level) {
    const [obj, msg] = args as unknown[]
    const write = (...a: unknown[]) => {
      if (msg !== 'access' || typeof obj !== 'object' || obj === null) return method.apply(this, a as never)
      let line = obj as Record<string, unknown>
      if (keep !== null) {
        const picked: Record<string, unknown> = {}
        for (const k in line) if (keep.has(k)) picked[k] = line[k]
        line = picked
      }
      if (file === null) return method.apply(this, [line, msg] as never)
      out ??= fileLogger(file)
      const bindings = this.bindings() as Record<string, unknown>
      const own: Record<string, unknown> = {}
      for (const k in bindings) if (keep === null || keep.has(k)) own[k] = bindings[k]
      out.info({ ...own, ...line }, 'access')
    }
    if (next === undefined) return write(...(args as unknown[]))
    return next.call(this, args, write as never, level)
  }
}
