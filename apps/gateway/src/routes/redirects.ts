import type { FastifyReply, FastifyRequest } from 'fastify'
import { compileTemplate, expand, headerValue, type Template } from './template.js'
import type { RedirectRule, RewriteRule } from './types.js'

// `redirects` (answered here, as nginx's `return 301`, Traefik's RedirectRegex, Caddy's `redir`) and
// `rewrite` (the path sent upstream, as nginx's `rewrite … break`, Traefik's ReplacePathRegex, Caddy's
// `uri path_regexp`). Both match the path without its query, and keep the query.

export interface CompiledRedirect {
  re: RegExp
  to: Template
  status: number
}

export interface CompiledRewrite {
  re: RegExp
  to: Template
}

// The sources were checked when the config was read (routes/config.ts): they compile and are safe.
export const compileRedirects = (rules: RedirectRule[]): CompiledRedirect[] =>
  rules.map((r) => ({ re: new RegExp(r.from), to: compileTemplate(r.to, true), status: r.status }))

export const compileRewrites = (rules: RewriteRule[]): CompiledRewrite[] =>
  rules.map((r) => ({ re: new RegExp(r.from), to: compileTemplate(r.to, true) }))

function splitQuery(url: string): [string, string] {
  const q = url.indexOf('?')
  return q === -1 ? [url, ''] : [url.slice(0, q), url.slice(q)]
}

/** Answers the request with the first matching redirect; false when none matched. */
export function redirect(
  request: FastifyRequest,
  reply: FastifyReply,
  rules: readonly CompiledRedirect[],
): boolean {
  const [path, query] = splitQuery(request.url)
  for (const rule of rules) {
    const match = rule.re.exec(path)
    if (match === null) continue
    let location = expand(rule.to, request, match)
    if (query !== '') location += location.includes('?') ? `&${query.slice(1)}` : query
    reply.code(rule.status).header('location', headerValue(location)).send()
    return true
  }
  return false
}

/** The reverse proxy's `rewritePath` hook for a route's rules: the client's path decides. */
export function rewritePathHook(
  rules: readonly CompiledRewrite[],
): (request: FastifyRequest, path: string) => string {
  return (request, upstreamPath) => {
    const [path, query] = splitQuery(request.raw.url ?? '/')
    for (const rule of rules) {
      const match = rule.re.exec(path)
      if (match !== null) return expand(rule.to, request, match) + query
    }
    return upstreamPath
  }
}
