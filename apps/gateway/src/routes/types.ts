// Issue 27's route settings as resolved (config/parse.ts fills them in through routes/config.ts).

/** One side's header changes; names lower case, values templates (`${clientIp}` …). */
export interface HeaderRules {
  set: Record<string, string>
  add: Record<string, string>
  remove: string[]
}

export interface HeadersConfig {
  request: HeaderRules | null
  response: HeaderRules | null
}

export interface RedirectRule {
  /** The regex source, checked (compiles, no catastrophic backtracking) when the config was read. */
  from: string
  to: string
  status: 301 | 302 | 303 | 307 | 308
}

export interface RewriteRule {
  from: string
  to: string
}

export interface RespondConfig {
  status: number
  headers: Record<string, string>
  body: string
}

export interface StaticConfig {
  /** Absolute. */
  root: string
  index: string | false
  maxAgeMs: number
  dotfiles: 'deny' | 'ignore' | 'allow'
}

/** The keys a route gets beside its upstreams (the listener's defaults already merged in). */
export interface RouteFeatures {
  /** Host names and `*.` wildcards, lower case; empty: any host. */
  hosts: string[]
  headers: HeadersConfig | null
  /** The route's own rules, then the listener's. */
  redirects: RedirectRule[]
  rewrite: RewriteRule[]
  /** Bytes; null: no limit. */
  bodyLimit: number | null
  respond: RespondConfig | null
  static: StaticConfig | null
}
