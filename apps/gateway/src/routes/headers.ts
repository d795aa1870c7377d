import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { FastifyRequest } from 'fastify'
import { compileTemplate, constant, expand, headerValue, type Template } from './template.js'
import type { HeaderRules } from './types.js'

// `headers.request` (sent upstream) and `headers.response` (sent to the client), applied as nginx's
// proxy_set_header / more_set_headers, Traefik's Headers middleware and Caddy's header_up / header do:
// `remove`, then `set`, then `add`.

interface Value {
  name: string
  /** The value when it has no variable, so most requests expand nothing. */
  fixed: string | null
  template: Template
}

export interface CompiledHeaderRules {
  remove: readonly string[]
  set: readonly Value[]
  add: readonly Value[]
}

function values(record: Record<string, string>): Value[] {
  return Object.entries(record).map(([name, text]) => {
    const template = compileTemplate(text, false)
    return { name, fixed: constant(template), template }
  })
}

export function compileHeaderRules(rules: HeaderRules | null): CompiledHeaderRules | null {
  if (rules === null) return null
  return { remove: rules.remove, set: values(rules.set), add: values(rules.add) }
}

const valueFor = (v: Value, request: FastifyRequest): string =>
  v.fixed ?? headerValue(expand(v.template, request))

/**
 * Applies the rules to `headers` (lower-case names). `current` reads a value set elsewhere (on
 * `reply.raw`, which Node merges into the head), and `drop` removes it there.
 */
export function applyHeaderRules(
  headers: OutgoingHttpHeaders,
  rules: CompiledHeaderRules,
  request: FastifyRequest,
  res?: ServerResponse,
): void {
  for (const name of rules.remove) {
    delete headers[name]
    if (res?.hasHeader(name) === true) res.removeHeader(name)
  }
  for (const v of rules.set) headers[v.name] = valueFor(v, request)
  for (const v of rules.add) {
    const value = valueFor(v, request)
    const existing = headers[v.name] ?? res?.getHeader(v.name)
    headers[v.name] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [String(existing)]), value]
  }
}

/** `writeHead`'s headers argument (an object, a flat array, or an array of pairs) as one lower-case object. */
export function headersObject(raw: unknown): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  const put = (name: string, value: unknown) => {
    const key = name.toLowerCase()
    const prev = out[key]
    const next = Array.isArray(value) ? value.map(String) : String(value)
    if (prev === undefined) out[key] = next
    else
      out[key] = [...(Array.isArray(prev) ? prev : [String(prev)]), ...(Array.isArray(next) ? next : [next])]
  }
  if (Array.isArray(raw)) {
    if (raw.length > 0 && Array.isArray(raw[0])) for (const [n, v] of raw as unknown[][]) put(String(n), v)
    else for (let i = 0; i + 1 < raw.length; i += 2) put(String(raw[i]), raw[i + 1])
  } else if (raw !== null && typeof raw === 'object') {
    for (const [n, v] of Object.entries(raw)) if (v !== undefined) put(n, v)
  }
  return out
}
