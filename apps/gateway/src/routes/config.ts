import { resolve } from 'node:path'
import { HOP_BY_HOP, RESPONSE_OWNED } from '@proxykit/core'
import { parseDuration, parseSize } from '../config/units.js'
import { regexRisk } from './regex.js'
import { checkTemplate } from './template.js'
import type {
  HeaderRules,
  HeadersConfig,
  RedirectRule,
  RespondConfig,
  RewriteRule,
  RouteFeatures,
  StaticConfig,
} from './types.js'

// Resolves and checks issue 27's route keys after the JSON Schema passed: what a schema cannot say (a
// regex that compiles and cannot backtrack catastrophically, captures that exist, variables we know,
// headers the proxy must own) comes out here as `path: rule` problems, never as a crash later.

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** Headers that frame the message or its connection: never a config's to change. */
const REQUEST_OWNED: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'content-length'])

/** A regex from the config, or the problem with it. */
export function checkRegex(source: string): RegExp | string {
  let re: RegExp
  try {
    re = new RegExp(source)
  } catch (err) {
    return `is not a valid regular expression (${(err as Error).message})`
  }
  return regexRisk(source) ?? re
}

/** `$1`, `$<name>` references in `to` that `re` does not capture. */
function missingCaptures(re: RegExp, to: string): string[] {
  const probe = new RegExp(`${re.source}|`).exec('')!
  const count = probe.length - 1
  const names = new Set(Object.keys(probe.groups ?? {}))
  const missing: string[] = []
  for (const m of to.matchAll(/\$(\$|\d{1,2}|<([^>]*)>)/g)) {
    if (m[1] === '$') continue
    if (m[2] !== undefined) {
      if (!names.has(m[2])) missing.push(m[0])
    } else if (Number(m[1]) > count) missing.push(m[0])
  }
  return missing
}

function headerRules(
  raw: { set?: Record<string, string>; add?: Record<string, string>; remove?: string[] } | undefined,
  fallback: HeaderRules | null,
  owned: ReadonlySet<string>,
  at: string,
  problems: string[],
): HeaderRules | null {
  if (raw === undefined) return fallback
  const rules: HeaderRules = {
    set: { ...fallback?.set },
    add: { ...fallback?.add },
    remove: [...(fallback?.remove ?? [])],
  }
  for (const kind of ['set', 'add'] as const) {
    for (const [name, value] of Object.entries(raw[kind] ?? {})) {
      const where = `${at}.${kind}[${JSON.stringify(name)}]`
      const lower = name.toLowerCase()
      if (!TOKEN.test(name)) problems.push(`${where}: is not a valid header name`)
      else if (owned.has(lower)) problems.push(`${where}: ${lower} frames the message: the proxy sets it`)
      const bad = checkTemplate(value)
      if (bad !== null) problems.push(`${where}: ${bad}`)
      rules[kind][lower] = value
    }
  }
  for (const [i, name] of (raw.remove ?? []).entries()) {
    const lower = name.toLowerCase()
    if (owned.has(lower)) problems.push(`${at}.remove[${i}]: ${lower} frames the message: the proxy sets it`)
    else if (!rules.remove.includes(lower)) rules.remove.push(lower)
  }
  return rules
}

/** `headers` of a route over the listener's (the route's names win; `remove` lists join). */
function headersConfig(
  raw: any,
  fallback: HeadersConfig | null,
  at: string,
  problems: string[],
): HeadersConfig | null {
  if (raw === undefined) return fallback
  const out: HeadersConfig = {
    request: headerRules(raw.request, fallback?.request ?? null, REQUEST_OWNED, `${at}.request`, problems),
    response: headerRules(
      raw.response,
      fallback?.response ?? null,
      RESPONSE_OWNED,
      `${at}.response`,
      problems,
    ),
  }
  return out.request === null && out.response === null ? null : out
}

/** A rule's `from` is a valid regex and every capture its `to` names is one of its groups. */
function checkFromTo(r: { from: string; to: string }, at: string, problems: string[]): void {
  const re = checkRegex(r.from)
  if (typeof re === 'string') problems.push(`${at}.from: ${re}`)
  else {
    const missing = missingCaptures(re, r.to)
    if (missing.length > 0) problems.push(`${at}.to: ${missing.join(', ')} is not a capture group of from`)
  }
}

function redirectRules(raw: any[] | undefined, at: string, problems: string[]): RedirectRule[] {
  return (raw ?? []).map((r, i) => {
    checkFromTo(r, `${at}[${i}]`, problems)
    const bad = checkTemplate(r.to)
    if (bad !== null) problems.push(`${at}[${i}].to: ${bad}`)
    return { from: r.from, to: r.to, status: r.status ?? 302 }
  })
}

function rewriteRules(raw: any[] | undefined, at: string, problems: string[]): RewriteRule[] {
  return (raw ?? []).map((r, i) => {
    checkFromTo(r, `${at}[${i}]`, problems)
    return { from: r.from, to: r.to }
  })
}

/** The listener-wide defaults on `reverse`, resolved once for every route. */
export interface ReverseFeatureDefaults {
  headers: HeadersConfig | null
  redirects: RedirectRule[]
  bodyLimit: number | null
  /** Bytes. */
  maxHeaderSize: number
}

export function resolveReverseDefaults(rev: any, problems: string[]): ReverseFeatureDefaults {
  return {
    headers: headersConfig(rev.headers, null, 'reverse.headers', problems),
    redirects: redirectRules(rev.redirects, 'reverse.redirects', problems),
    bodyLimit: rev.bodyLimit === undefined ? null : parseSize(rev.bodyLimit),
    maxHeaderSize: parseSize(rev.maxHeaderSize ?? '16KiB')!,
  }
}

export function resolveRouteFeatures(
  r: any,
  defaults: ReverseFeatureDefaults,
  at: string,
  problems: string[],
): RouteFeatures {
  if (r.host !== undefined && r.hosts !== undefined)
    problems.push(`${at}.hosts: cannot be used with host (list every host in hosts)`)
  const targets = ['upstreams', 'respond', 'static'].filter((k) => r[k] !== undefined)
  if (targets.length === 0) problems.push(`${at}.upstreams: is required (or respond, or static)`)
  else if (targets.length > 1)
    problems.push(`${at}.${targets[1]}: cannot be used with ${targets[0]} (a route answers one way)`)
  const respond: RespondConfig | null =
    r.respond === undefined
      ? null
      : { status: r.respond.status ?? 200, headers: r.respond.headers ?? {}, body: r.respond.body ?? '' }
  if (respond !== null)
    for (const name of Object.keys(respond.headers)) {
      const where = `${at}.respond.headers[${JSON.stringify(name)}]`
      if (!TOKEN.test(name)) problems.push(`${where}: is not a valid header name`)
      else if (RESPONSE_OWNED.has(name.toLowerCase()))
        problems.push(`${where}: ${name.toLowerCase()} frames the message: the gateway sets it`)
    }
  const statik: StaticConfig | null =
    r.static === undefined
      ? null
      : {
          root: resolve(r.static.root),
          index: r.static.index === true ? 'index.html' : (r.static.index ?? 'index.html'),
          maxAgeMs: parseDuration(r.static.maxAge ?? '0s')!,
          dotfiles: r.static.dotfiles ?? 'ignore',
        }
  return {
    hosts: (r.hosts ?? (r.host === undefined ? [] : [r.host])).map((h: string) => h.toLowerCase()),
    headers: headersConfig(r.headers, defaults.headers, `${at}.headers`, problems),
    redirects: [...redirectRules(r.redirects, `${at}.redirects`, problems), ...defaults.redirects],
    rewrite: rewriteRules(r.rewrite, `${at}.rewrite`, problems),
    bodyLimit: r.bodyLimit === undefined ? defaults.bodyLimit : parseSize(r.bodyLimit),
    respond,
    static: statik,
  }
}
