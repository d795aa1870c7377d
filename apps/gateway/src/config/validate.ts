import type { ErrorObject, ValidateFunction } from 'ajv'
import { ConfigError } from './config-error.js'
import { configSchema, FORMAT_RULES } from './schema.js'
import { loadValidator } from './validator.js'

// Loaded at the first config read rather than when this module loads: importing the gateway as a
// library costs nothing, and a process that reads no config (a test of one part) pays nothing. Kept for
// reloads.
let compiled: ValidateFunction | null = null
function validator(): ValidateFunction {
  compiled ??= loadValidator().validate
  return compiled
}

/** One reference token of a JSON pointer, unescaped (RFC 6901: `~1` is `/`, `~0` is `~`). */
const unescapeToken = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~')

/** A JSON pointer as a config path: `/reverse/routes/1/upstreams/0` → `reverse.routes[1].upstreams[0]`. */
export function pointerToPath(pointer: string, extra?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/')
  if (extra !== undefined) parts.push(extra)
  let out = ''
  for (const raw of parts) {
    const p = unescapeToken(raw)
    if (/^\d+$/.test(p)) out += `[${p}]`
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`
    else out += `[${JSON.stringify(p)}]`
  }
  return out === '' ? '(root)' : out
}

function closest(word: string, candidates: string[]): string | null {
  let best: string | null = null
  let bestDistance = Math.max(2, Math.floor(word.length / 2)) + 1
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** Ajv's bounds and shapes, said the way the rest of the config errors say things. */
const RULES: Record<string, (p: Record<string, any>) => string> = {
  minLength: (p) => `must be at least ${plural(p.limit, 'character')} long`,
  maxLength: (p) => `must be at most ${plural(p.limit, 'character')} long`,
  minimum: (p) => `must be at least ${p.limit}`,
  maximum: (p) => `must be at most ${p.limit}`,
  exclusiveMinimum: (p) => `must be more than ${p.limit}`,
  exclusiveMaximum: (p) => `must be less than ${p.limit}`,
  multipleOf: (p) => `must be a multiple of ${p.multipleOf}`,
  minItems: (p) => `must list at least ${plural(p.limit, 'item')}`,
  maxItems: (p) => `must list at most ${plural(p.limit, 'item')}`,
  minProperties: (p) => `must have at least ${plural(p.limit, 'entry', 'entries')}`,
  maxProperties: (p) => `must have at most ${plural(p.limit, 'entry', 'entries')}`,
  uniqueItems: (p) => `must not list the same value twice (items ${p.j} and ${p.i})`,
  pattern: (p) => `must match ${p.pattern}`,
  const: (p) => `must be ${JSON.stringify(p.allowedValue)}`,
}

/** The schema holding a keyword that failed: `#/properties/log/additionalProperties` → `properties.log`. */
function schemaAt(schemaPath: string): { properties?: object } | undefined {
  let node: unknown = configSchema
  for (const raw of schemaPath.split('/').slice(1, -1))
    node = (node as Record<string, unknown> | undefined)?.[unescapeToken(raw)]
  return node as { properties?: object } | undefined
}

function describe(err: ErrorObject): string | null {
  const where = pointerToPath(err.instancePath)
  switch (err.keyword) {
    case 'if':
      return null // the failing branch reports the real reason
    case 'required':
      return `${pointerToPath(err.instancePath, err.params.missingProperty)}: is required`
    case 'additionalProperties': {
      const key = err.params.additionalProperty as string
      const known = Object.keys(schemaAt(err.schemaPath)?.properties ?? {})
      const guess = closest(key, known)
      const hint = guess === null ? '' : ` (did you mean "${guess}"?)`
      return `${pointerToPath(err.instancePath, key)}: is not a known key${hint}`
    }
    case 'format':
      return `${where}: ${FORMAT_RULES[err.params.format as string] ?? err.message}`
    case 'enum':
      return `${where}: must be one of ${(err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'type': {
      const types = String(err.params.type).split(',')
      return `${where}: must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`
    }
    default: {
      const rule = RULES[err.keyword]
      return `${where}: ${rule === undefined ? err.message : rule(err.params)}`
    }
  }
}

/**
 * Checks a config document against the schema (Ajv fills in the schema's defaults as it goes). Throws a
 * ConfigError listing every problem as `path: rule`, said the way the gateway's own checks say them.
 */
export function validateDocument(doc: unknown, source: string): void {
  const validate = validator()
  if (validate(doc)) return
  const problems = [...new Set((validate.errors ?? []).map(describe).filter((p): p is string => p !== null))]
  throw new ConfigError(problems.sort(), source)
}
