import cluster from 'node:cluster'
import type { FastifyBaseLogger } from 'fastify'
import pino, { type Logger, type LoggerOptions } from 'pino'
import type { RequestEnd } from './access-log.js'
import { AccessFile, accessLogHook } from './access-log-file.js'
import type { GatewayConfig } from './config/types.js'
import { type LineBuffer, stdoutDestination } from './log-destination.js'
import type { DenialEvent } from './ops/live-stats.js'

/** The fields of one request's access line, in the line's order (README, "Access log"). */
export interface AccessFields {
  reqId: string
  method: string | undefined
  target: string
  protocol: string
  route: string
  status: number
  bytes: number
  ms: number
  remote: string
  end: RequestEnd
  access: string | null
  rule: string | null
  user: string | null
  cache: string | null
  upstream: string | null
  attempts: number | null
}

type LogMethod = NonNullable<NonNullable<LoggerOptions['hooks']>['logMethod']>

const DENIED = new Set([401, 403, 407, 429])

// What JSON must escape, and lone surrogates (JSON.stringify writes those as \u escapes, as pino does).
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/
/** A JSON string's contents, without its quotes: `s` itself (nothing built) unless it needs escaping. */
function inner(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s).slice(1, -1) : s
}
function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`
}
function strOrNull(s: string | null | undefined): string {
  return s == null ? 'null' : NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`
}
function num(n: number | null): string {
  return n === null || !Number.isFinite(n) ? 'null' : `${n}`
}

/**
 * `ms` (a multiple of 0.01, as access-log.ts rounds it) as JSON writes it, from small integers: a
 * fractional number's own conversion runs V8's shortest-digits algorithm, several times the cost of
 * the rest of the field. The shortest digits of c/100 are c's, with the point two places in and trailing
 * zeros dropped, for any c far below 2^53 (`test/access-line-numbers-same-as-json.test.ts`); anything
 * else is converted as JSON does.
 */
function hundredths(ms: number): string {
  if (!(ms >= 0 && ms < 1e9)) return num(ms)
  const c = Math.round(ms * 100)
  if (c / 100 !== ms) return num(ms)
  const whole = Math.floor(c / 100)
  const frac = c - whole * 100
  if (frac === 0) return `${whole}`
  if (frac % 10 === 0) return `${whole}.${frac / 10}`
  return frac < 10 ? `${whole}.0${frac}` : `${whole}.${frac}`
}

type Keep = { readonly [K in keyof AccessFields]: boolean }

/**
 * Writes access lines: the same JSON line pino writes for `log.info(fields, 'access')` through the
 * gateway's logger and its hooks (field order, escaping, `log.fields`, `log.file`, the dashboard's denial
 * feed), built as one string from the request's values.
 *
 * Why not pino for these: pino walks the object it is given key by key (serializer lookups, a type
 * switch, a JSON-escaping pass per string), which was most of the access log's cost per request (issue
 * 28, bench/RESULTS.md); the access line's fields are fixed, so they are written by a template, and only
 * strings that need it are escaped (JSON.stringify). Every other line, and any logger passed in by an
 * embedder, still goes through pino. `test/access-line-same-as-pino.test.ts` holds the two to the same
 * output.
 */
export class AccessLineWriter {
  readonly #root: Logger
  readonly #out: { write(lines: string): unknown }
  readonly #file: AccessFile | null
  readonly #toFile: boolean
  readonly #keep: Keep | null
  readonly #keepListener: boolean
  readonly #onDenial: ((e: DenialEvent) => void) | null
  /** The bindings written after `time`, per listener logger (its pino chindings, or the file's). */
  readonly #bindings = new WeakMap<object, string>()
  /** The last logger's bindings: a listener writes run after run of lines through the one logger. */
  #lastLog: object | null = null
  #lastBindings = ''
  /** Date.now() and its text: every line within one millisecond writes the same (a 13-digit number is
   * not a small integer, so each conversion would run the shortest-digits algorithm). */
  #now = 0
  #nowText = '0'

  constructor(
    root: Logger,
    config: GatewayConfig['log'],
    out: LineBuffer | AccessFile,
    onDenial: ((e: DenialEvent) => void) | null,
  ) {
    this.#root = root
    this.#out = out
    this.#file = out instanceof AccessFile ? out : null
    const toFile = this.#file !== null
    this.#toFile = toFile
    this.#onDenial = onDenial
    const fields = config.fields
    this.#keepListener = fields === null || fields.includes('listener')
    if (fields === null) this.#keep = null
    else {
      const has = new Set<string>(fields)
      // On stdout the request id stays whatever `log.fields` says, as the listener does (a binding).
      this.#keep = {
        reqId: has.has('reqId') || !toFile,
        method: has.has('method'),
        target: has.has('target'),
        protocol: has.has('protocol'),
        route: has.has('route'),
        status: has.has('status'),
        bytes: has.has('bytes'),
        ms: has.has('ms'),
        remote: has.has('remote'),
        end: has.has('end'),
        access: has.has('access'),
        rule: has.has('rule'),
        user: has.has('user'),
        cache: has.has('cache'),
        upstream: has.has('upstream'),
        attempts: has.has('attempts'),
      }
    }
  }

  /** The part after `"time":…` for lines of `log` (a listener's logger, a child of the root). */
  #bindingsOf(log: FastifyBaseLogger, listener: string): string {
    if (log === this.#lastLog) return this.#lastBindings
    let b = this.#bindings.get(log)
    if (b === undefined) {
      if (!this.#toFile) b = (log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? ''
      else {
        // The file's logger: its own pid, then the listener when kept.
        b = `,"pid":${process.pid}`
        if (this.#keepListener) b += `,"listener":${str(listener)}`
      }
      this.#bindings.set(log, b)
    }
    this.#lastLog = log
    this.#lastBindings = b
    return b
  }

  /** Resolves once the lines written so far to `log.file` are with its transport (stdout: at once). */
  flush(): Promise<void> {
    const file = this.#file
    return file === null ? Promise.resolve() : new Promise((resolve) => file.flush(resolve))
  }

  /** Writes the access line of `f` for the listener whose logger is `log`; read synchronously. */
  write(log: FastifyBaseLogger, listener: string, f: AccessFields): void {
    // pino's `info` check, on the root logger, whose level a reload changes.
    if (this.#root.levelVal > 30) return
    const now = Date.now()
    if (now !== this.#now) {
      this.#now = now
      this.#nowText = `${now}`
    }
    const head = `{"level":30,"time":${this.#nowText}${this.#bindingsOf(log, listener)}`
    const k = this.#keep
    if (k === null) {
      // One template, the quotes in it: each piece is one concatenation, and a string needing no
      // escape is used as it is.
      const method = f.method === undefined ? '' : `"method":"${inner(f.method)}",`
      this.#out.write(
        `${head},"reqId":"${inner(f.reqId)}",${method}"target":"${inner(f.target)}","protocol":"${f.protocol}","route":"${inner(f.route)}","status":${num(f.status)},"bytes":${num(f.bytes)},"ms":${hundredths(f.ms)},"remote":"${inner(f.remote)}","end":"${f.end}","access":${strOrNull(f.access)},"rule":${strOrNull(f.rule)},"user":${strOrNull(f.user)},"cache":${strOrNull(f.cache)},"upstream":${strOrNull(f.upstream)},"attempts":${num(f.attempts)},"msg":"access"}\n`,
      )
    } else {
      let s = head
      if (k.reqId) s += `,"reqId":${str(f.reqId)}`
      if (k.method && f.method !== undefined) s += `,"method":${str(f.method)}`
      if (k.target) s += `,"target":${str(f.target)}`
      if (k.protocol) s += `,"protocol":"${f.protocol}"`
      if (k.route) s += `,"route":${str(f.route)}`
      if (k.status) s += `,"status":${num(f.status)}`
      if (k.bytes) s += `,"bytes":${num(f.bytes)}`
      if (k.ms) s += `,"ms":${hundredths(f.ms)}`
      if (k.remote) s += `,"remote":${str(f.remote)}`
      if (k.end) s += `,"end":"${f.end}"`
      if (k.access) s += `,"access":${strOrNull(f.access)}`
      if (k.rule) s += `,"rule":${strOrNull(f.rule)}`
      if (k.user) s += `,"user":${strOrNull(f.user)}`
      if (k.cache) s += `,"cache":${strOrNull(f.cache)}`
      if (k.upstream) s += `,"upstream":${strOrNull(f.upstream)}`
      if (k.attempts) s += `,"attempts":${num(f.attempts)}`
      this.#out.write(`${s},"msg":"access"}\n`)
    }
    if (this.#onDenial !== null && DENIED.has(f.status))
      this.#onDenial({
        at: Date.now(),
        listener,
        status: f.status,
        rule: f.rule ?? (f.status === 429 ? 'rate limit' : null),
        remote: f.remote,
        method: f.method ?? null,
        target: f.target.slice(0, 200),
      })
  }
}

// The writer of each logger made by gatewayLogger, found from any of its children by their shared
// destination (pino children write to their parent's stream).
const writers = new WeakMap<object, AccessLineWriter>()

/** The access-line writer of `log`'s logger, or null for a logger the gateway did not make. */
export function accessWriterOf(log: FastifyBaseLogger | Logger): AccessLineWriter | null {
  const stream = (log as unknown as Record<symbol, object | undefined>)[pino.symbols.streamSym]
  return stream === undefined ? null : (writers.get(stream) ?? null)
}

/**
 * The gateway's logger: pino on stdout (buffered, log-destination.ts) at `log.level`, with an access-line
 * writer for its listeners (`log.fields`, `log.file`), and `denialHook` (the dashboard's feed) for access
 * lines logged through pino.
 */
export function gatewayLogger(
  config: GatewayConfig,
  onDenial: ((e: DenialEvent) => void) | null = null,
  denialHook: LogMethod | undefined = undefined,
): Logger {
  const dest: LineBuffer = stdoutDestination(cluster.isWorker || config.workers > 1)
  const file = config.log.file === null ? null : new AccessFile(config.log.file)
  const logMethod = accessLogHook(config, denialHook, file)
  const logger = pino(
    {
      level: config.log.level,
      base: { pid: process.pid },
      ...(logMethod === null ? {} : { hooks: { logMethod } }),
    },
    dest,
  )
  writers.set(dest, new AccessLineWriter(logger, config.log, file ?? dest, onDenial))
  return logger
}

/** Waits until the access lines written to the file so far are with its transport (none: at once). */
export function flushAccessFile(logger: Logger): Promise<void> {
  const w = accessWriterOf(logger)
  return w === null ? Promise.resolve() : w.flush()
}
