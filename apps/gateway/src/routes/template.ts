import type { FastifyRequest } from 'fastify'

// Values from the config with `${variable}` (and, in redirects and rewrites, `$1` / `$<name>` captures),
// compiled once into parts and expanded per request in one pass, so nothing a variable or a capture
// brings in is ever read as a template again.

export const VARIABLES = ['clientIp', 'requestId', 'host', 'scheme'] as const
type Variable = (typeof VARIABLES)[number]

type Part = string | { v: Variable } | { g: number } | { n: string }
export type Template = readonly Part[]

const TOKEN = /\$(?:\{([^}]*)\}|(\d{1,2})|<([^>]*)>|(\$))/g

/** The problem with a template (a variable we do not know), or null. */
export function checkTemplate(text: string): string | null {
  for (const m of text.matchAll(TOKEN)) {
    if (m[1] !== undefined && !(VARIABLES as readonly string[]).includes(m[1]))
      return `\${${m[1]}} is not a variable (known: ${VARIABLES.map((v) => `\${${v}}`).join(', ')})`
  }

  return null
}

export function compileTemplate(text: string, captures: boolean): Template {
  const parts: Part[] = []
  let last = 0
  const literal = (s: string) => {
    if (s === '') return
    if (typeof parts[parts.length - 1] === 'string') parts[parts.length - 1] += s
    else parts.push(s)
  }
  for (const m of text.matchAll(TOKEN)) {
    const [whole, variable, group, name, dollar] = m
    literal(text.slice(last, m.index))
    last = m.index! + whole.length
    if (variable !== undefined) parts.push({ v: variable as Variable })
    else if (dollar !== undefined) literal('$')
    else if (!captures) literal(whole)
    else if (group !== undefined) parts.push({ g: Number(group) })
    else parts.push({ n: name! })
  }
  literal(text.slice(last))
  return parts
}

/** True when the template has no variable or capture: its one string is the value. */
export function constant(t: Template): string | null {
  if (t.length === 0) return ''
  return t.length === 1 && typeof t[0] === 'string' ? t[0] : null
}

function variable(request: FastifyRequest, v: Variable): string {
  switch (v) {
    case 'clientIp':
      return request.ip
    case 'requestId':
      return String(request.id)
    case 'host':
      return request.hostname
    case 'scheme':
      return request.protocol
  }
}

export function expand(t: Template, request: FastifyRequest, match?: RegExpExecArray): string {
  let out = ''
  for (const p of t) {
    if (typeof p === 'string') out += p
    else if ('v' in p) out += variable(request, p.v)
    else if ('g' in p) out += match?.[p.g] ?? ''
    else out += match?.groups?.[p.n] ?? ''
  }
  return out
}

// What Node refuses in a header value (its checkInvalidHeaderChar): CR, LF, NUL, other controls, and
// anything past Latin-1. Config values were checked; a variable's value is cleaned here, never trusted.
const INVALID = /[^\t\x20-\x7e\x80-\xff]/
const INVALID_ALL = /[^\t\x20-\x7e\x80-\xff]/g

export function headerValue(s: string): string {
  return INVALID.test(s) ? s.replace(INVALID_ALL, '') : s
}
