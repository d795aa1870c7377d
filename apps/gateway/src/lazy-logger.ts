import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'

type Log = (...args: unknown[]) => void

/**
 * A request's logger that becomes a real pino child (with the request id bound) only when something logs
 * through it or asks for a child: most requests write nothing through `request.log` (their access line
 * goes through the listener's logger, see access-log.ts), and a pino child per request is the largest
 * single cost the gateway used to add to each one.
 */
export class LazyRequestLogger {
  readonly #parent: FastifyBaseLogger
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #real: FastifyBaseLogger | null = null

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  /** Whether the pino child has been made (something logged through this request's logger). */
  get materialized(): boolean {
    return this.#real !== null
  }

  /** The pino child, made on first use. */
  get real(): FastifyBaseLogger {
    this.#real ??= this.#parent.child(this.#bindings, this.#options)
    return this.#real
  }

  get level(): string {
    return this.#real?.level ?? this.#options.level ?? this.#parent.level
  }

  set level(level: string) {
    this.real.level = level
  }

  /** False when the parent would drop `level` and no level of our own overrides it: nothing to make. */
  #wants(level: string): boolean {
    if (this.#real !== null || this.#options.level !== undefined) return true
    const p = this.#parent as { isLevelEnabled?: (l: string) => boolean }
    return p.isLevelEnabled === undefined || p.isLevelEnabled(level)
  }

  info(...args: unknown[]): void {
    if (!this.#wants('info')) return
    ;(this.real.info as Log)(...args)
  }
  error(...args: unknown[]): void {
    ;(this.real.error as Log)(...args)
  }
  warn(...args: unknown[]): void {
    ;(this.real.warn as Log)(...args)
  }
  fatal(...args: unknown[]): void {
    ;(this.real.fatal as Log)(...args)
  }
  debug(...args: unknown[]): void {
    if (!this.#wants('debug')) return
    ;(this.real.debug as Log)(...args)
  }
  trace(...args: unknown[]): void {
    if (!this.#wants('trace')) return
    ;(this.real.trace as Log)(...args)
  }
  silent(): void {}
  isLevelEnabled(level: string): boolean {
    return (this.real as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled(level)
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options)
  }
}

/** Fastify's `childLoggerFactory`: a LazyRequestLogger per request instead of a pino child. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger
}
