import type { LoggerOptions } from 'pino'
import type { DenialEvent } from './live-stats.js'

const DENIED = new Set([401, 403, 407, 429])

/**
 * pino options whose `logMethod` hook sees every access-log line (children inherit hooks) and reports
 * the refused ones: the dashboard's "recent denials" list comes from the same line an operator greps.
 */
export function denialHook(report: (event: DenialEvent) => void): Pick<LoggerOptions, 'hooks'> {
  return {
    hooks: {
      logMethod(args, method) {
        const [obj, msg] = args as unknown[]
        if (msg === 'access' && typeof obj === 'object' && obj !== null) {
          const line = obj as Record<string, unknown>
          const status = Number(line.status)
          if (DENIED.has(status)) {
            const bindings = (this as unknown as { bindings(): Record<string, unknown> }).bindings()
            report({
              at: Date.now(),
              listener: String(bindings.listener ?? 'unknown'),
              status,
              rule: typeof line.rule === 'string' ? line.rule : status === 429 ? 'rate limit' : null,
              remote: typeof line.remote === 'string' ? line.remote : null,
              method: typeof line.method === 'string' ? line.method : null,
              target: typeof line.target === 'string' ? line.target.slice(0, 200) : null,
            })
          }
        }
        return method.apply(this, args as Parameters<typeof method>)
      },
    },
  }
}
