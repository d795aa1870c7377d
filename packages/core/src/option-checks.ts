import { InvalidOptionError } from './errors.js'

/** A `PK_INVALID_OPTION` error: which plugin, which option (its path in the options), and the rule. */
export interface InvalidOption extends TypeError {
  code: 'PK_INVALID_OPTION'
  statusCode: 500
  /** The plugin (or class) whose option it is, e.g. `@proxykit/cache`. */
  plugin: string
  /** The option's path in what was passed: `routes[0].upstreams[1].weight`, `route /a: config.cache.ttl`. */
  option: string
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The option checks every plugin shares, bound to the plugin's name so that each error says whose option
 * it is. Plugins keep their domain rules (what a port range or a balancer name is) but report every bad
 * option through `invalid`, so a user catches one code, `PK_INVALID_OPTION`, whichever plugin refused.
 * Each checker returns the value (or the fallback when it is undefined) with its type narrowed.
 */
export interface OptionChecks {
  readonly plugin: string
  /** The error for `option` breaking `rule` (to `throw`). */
  invalid(option: string, rule: string): InvalidOption
  /** Refuses keys outside `known`: a misspelt option is an error, not silently ignored. */
  knownKeys(value: Record<string, unknown>, option: string, known: ReadonlySet<string>, what?: string): void
  object(value: unknown, option: string, rule?: string): Record<string, unknown>
  boolean(value: unknown, option: string, fallback: boolean): boolean
  /** An integer >= `min` (default 1). */
  integer(value: unknown, option: string, fallback: number, min?: number, rule?: string): number
  oneOf<T extends string>(value: unknown, option: string, allowed: readonly T[], fallback: T): T
  func<T extends (...args: never[]) => unknown>(value: unknown, option: string): T | undefined
}

const quoted = (values: readonly string[]) => values.map((v) => `"${v}"`).join(', ')

export function optionChecks(plugin: string): OptionChecks {
  const invalid = (option: string, rule: string): InvalidOption => {
    const err = new InvalidOptionError(plugin, option, rule) as unknown as InvalidOption
    err.plugin = plugin
    err.option = option
    return err
  }
  return {
    plugin,
    invalid,
    knownKeys(value, option, known, what = 'option') {
      for (const key of Object.keys(value))
        if (!known.has(key)) throw invalid(option, `unknown ${what} "${key}"`)
    },
    object(value, option, rule = 'must be an object') {
      if (!isPlainObject(value)) throw invalid(option, rule)
      return value
    },
    boolean(value, option, fallback) {
      if (value === undefined) return fallback
      if (typeof value !== 'boolean') throw invalid(option, 'must be a boolean')
      return value
    },
    integer(value, option, fallback, min = 1, rule = `must be an integer >= ${min}`) {
      if (value === undefined) return fallback
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(option, rule)
      return value
    },
    oneOf(value, option, allowed, fallback) {
      if (value === undefined) return fallback
      if (typeof value !== 'string' || !allowed.includes(value as never))
        throw invalid(option, `must be one of ${quoted(allowed)}, got ${JSON.stringify(value)}`)
      return value as (typeof allowed)[number]
    },
    func<T extends (...args: never[]) => unknown>(value: unknown, option: string): T | undefined {
      if (value === undefined) return undefined
      if (typeof value !== 'function') throw invalid(option, 'must be a function')
      return value as T
    },
  }
}
