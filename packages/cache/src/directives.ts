import type { IncomingHttpHeaders } from 'node:http'

/** Cache-Control directives: lower-case names; `true` for a directive without a value. */
export type Directives = Record<string, string | true>

export function parseCacheControl(value: string | string[] | number | undefined): Directives {
  const out: Directives = {}
  if (value === undefined) return out
  const joined = Array.isArray(value) ? value.join(',') : String(value)
  for (const part of joined.split(',')) {
    const eq = part.indexOf('=')
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
    if (name === '') continue
    let v: string | true = eq === -1 ? true : part.slice(eq + 1).trim()
    if (typeof v === 'string' && v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
    // §4.2.1: a directive repeated with another value is invalid; we keep the smallest delta-seconds,
    // which errs towards staleness as the RFC encourages.
    const prev = out[name]
    if (prev !== undefined && typeof prev === 'string' && typeof v === 'string') {
      const a = Number.parseInt(prev, 10)
      const b = Number.parseInt(v, 10)
      if (Number.isFinite(a) && Number.isFinite(b)) v = String(Math.min(a, b))
    }
    out[name] = v
  }
  return out
}

/** delta-seconds (§1.2.2): a non-negative integer; anything else is invalid (null). */
export function deltaSeconds(v: string | true | undefined): number | null {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return null
  return Math.min(Number(v), 2 ** 31)
}

/** Request directives, with §5.4 Pragma handling. */
export function requestDirectives(headers: IncomingHttpHeaders): { cc: Directives; pragmaNoCache: boolean } {
  const raw = headers['cache-control']
  if (raw === undefined) {
    const pragma = headers.pragma
    return { cc: EMPTY, pragmaNoCache: pragma !== undefined && /(^|,)\s*no-cache\s*(,|$)/i.test(pragma) }
  }
  return { cc: parseCacheControl(raw), pragmaNoCache: false }
}

const EMPTY: Directives = Object.freeze({}) as Directives
