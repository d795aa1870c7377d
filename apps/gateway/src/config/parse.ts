import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { extname, resolve } from 'node:path'
import { defaultMaxEntrySize } from '@proxykit/cache'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { resolveReverseDefaults, resolveRouteFeatures } from '../routes/config.js'
import { VARIABLES } from '../routes/template.js'
import { formats } from './formats.js'
import { configSchema, FORMAT_RULES } from './schema.js'
import { checkRules, resolveRouteSecurity, withinPrefix } from './security.js'
import type {
  Balancer,
  ClientsConfig,
  ClientTimeouts,
  GatewayConfig,
  ProxyProtocolConfig,
  RateLimitConfig,
  RouteConfig,
  TlsConfig,
} from './types.js'
import { type ListenAddress, parseDuration, parseListen, parseSize } from './units.js'

/** Why a config was refused: one `path: rule` line per problem. */
export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[], source = 'config') {
    super(`${source} is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

// Compiled at the first config read rather than when this module loads: importing the gateway as a
// library costs no compilation, and a process that reads no config (a test of one part) pays nothing.
// Kept for reloads, which would otherwise block the event loop for the whole compilation each time.
let compiled: ValidateFunction | null = null
function validator(): ValidateFunction {
  if (compiled !== null) return compiled
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    allowUnionTypes: true,
    verbose: true,
    strict: true,
  })
  for (const [name, validate] of Object.entries(formats)) ajv.addFormat(name, { type: 'string', validate })
  compiled = ajv.compile(configSchema)
  return compiled
}

/** A JSON pointer as a config path: `/reverse/routes/1/upstreams/0` → `reverse.routes[1].upstreams[0]`. */
export function pointerToPath(pointer: string, extra?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/')
  if (extra !== undefined) parts.push(extra)
  let out = ''
  for (const raw of parts) {
    const p = raw.replace(/~1/g, '/').replace(/~0/g, '~')
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

function describe(err: ErrorObject): string | null {
  const where = pointerToPath(err.instancePath)
  switch (err.keyword) {
    case 'if':
      return null // the failing branch reports the real reason
    case 'required':
      return `${pointerToPath(err.instancePath, err.params.missingProperty)}: is required`
    case 'additionalProperties': {
      const key = err.params.additionalProperty as string
      const known = Object.keys((err.parentSchema as { properties?: object })?.properties ?? {})
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

function clientTimeouts(raw: { header?: string; body?: string; idle?: string } | undefined): ClientTimeouts {
  return {
    headerMs: parseDuration(raw?.header ?? '10s')!,
    bodyMs: parseDuration(raw?.body ?? '30s')!,
    idleMs: parseDuration(raw?.idle ?? '60s')!,
  }
}

/** The issue's balancer names → the reverse proxy's. */
const BALANCER_ALIASES: Record<string, Balancer> = {
  weighted: 'weighted-round-robin',
  'least-connections': 'least-in-flight',
}

function proxyProtocol(
  raw: { from: string[]; timeout?: string | number } | undefined,
): ProxyProtocolConfig | null {
  if (raw === undefined) return null
  return { from: raw.from, timeoutMs: parseDuration(raw.timeout ?? '5s')! }
}

function tlsConfig(
  raw: { certs?: Array<{ cert: string; key: string }>; minVersion: string; acme?: any } | undefined,
  hosts: string[] = [],
): TlsConfig | null {
  if (raw === undefined) return null
  const a = raw.acme
  return {
    certs: (raw.certs ?? []).map((c) => ({ cert: c.cert, key: c.key })),
    minVersion: raw.minVersion as TlsConfig['minVersion'],
    acme:
      a === undefined
        ? null
        : {
            directory: a.directory,
            email: a.email,
            domains: (a.domains ?? [...new Set(hosts)]).map((d: string) => d.toLowerCase()),
            caFile: a.caFile ?? null,
            storage: a.storage,
            renewBeforeMs: parseDuration(a.renewBefore ?? '30d')!,
          },
  }
}

function hsts(raw: number | { maxAge: number; includeSubDomains: boolean; preload: boolean } | undefined) {
  if (raw === undefined) return null
  return typeof raw === 'number'
    ? { maxAge: raw, includeSubDomains: false, preload: false }
    : { maxAge: raw.maxAge, includeSubDomains: raw.includeSubDomains, preload: raw.preload }
}

function clients(raw: { allow?: string[]; deny: string[] } | undefined): ClientsConfig | null {
  if (raw === undefined) return null
  return { allow: raw.allow ?? null, deny: raw.deny }
}

function rateLimit(
  raw: { max: number; timeWindow: string | number; key?: string } | undefined,
): RateLimitConfig | null {
  if (raw === undefined) return null
  const limit = { max: raw.max, timeWindowMs: parseDuration(raw.timeWindow)! }
  return raw.key === undefined || raw.key === 'client' ? limit : { ...limit, key: raw.key }
}

function logFile(raw: any): GatewayConfig['log']['file'] {
  if (raw === undefined) return null
  const every = raw.rotate?.every
  return {
    path: resolve(raw.path),
    rotate: {
      sizeBytes: raw.rotate?.size === undefined ? null : parseSize(raw.rotate.size),
      everyMs:
        every === undefined ? null : every === 'hourly' || every === 'daily' ? every : parseDuration(every),
      keep: raw.rotate?.keep ?? null,
    },
  }
}

/**
 * Validates a parsed config document and resolves it: defaults filled in, durations in ms, sizes in
 * bytes, listen addresses split. Throws a ConfigError listing every problem as `path: rule`.
 */
export function resolveConfig(document: unknown, source = 'config'): GatewayConfig {
  const doc = structuredClone(document ?? {}) as any
  const validate = validator()
  if (!validate(doc as unknown)) {
    const problems = [
      ...new Set((validate.errors ?? []).map(describe).filter((p): p is string => p !== null)),
    ]
    throw new ConfigError(problems.sort(), source)
  }
  const problems: string[] = []
  const reverseDefaults = resolveReverseDefaults(doc.reverse ?? {}, problems)
  const routes: RouteConfig[] = (doc.reverse?.routes ?? []).map((r: any, i: number): RouteConfig => {
    const hc = r.healthCheck
    const ph = r.passiveHealth ?? {}
    const features = resolveRouteFeatures(r, reverseDefaults, `reverse.routes[${i}]`, problems)
    return {
      ...features,
      name: r.name ?? `${features.hosts.join(',')}${r.prefix}`,
      prefix: r.prefix,
      rewritePrefix: r.rewritePrefix ?? null,
      preserveHost: r.preserveHost,
      upstreams: (r.upstreams ?? []).map((u: string | { url: string; weight?: number }) =>
        typeof u === 'string' ? { url: u, weight: 1 } : { url: u.url, weight: u.weight ?? 1 },
      ),
      balancer: BALANCER_ALIASES[r.balancer] ?? r.balancer,
      hashOn: r.hashOn ?? null,
      healthCheck:
        hc === undefined
          ? null
          : {
              path: hc.path,
              intervalMs: parseDuration(hc.interval)!,
              timeoutMs: parseDuration(hc.timeout)!,
              fall: hc.fall,
              rise: hc.rise,
            },
      passiveHealth:
        ph === false
          ? false
          : {
              failures: ph.failures ?? 3,
              ejectMs: parseDuration(ph.ejectTime ?? '5s')!,
              statuses: ph.statuses ?? [],
            },
      retries: r.retries,
      timeoutMs: parseDuration(r.timeout)!,
      protocol: r.protocol,
      cache: r.cache,
      deny: r.deny,
      rateLimit: rateLimit(r.rateLimit),
      clients: clients(r.clients),
      ...resolveRouteSecurity(r, doc.reverse, `reverse.routes[${i}]`, withinPrefix(r.prefix), problems),
    }
  })
  checkRules(doc.reverse?.rules ?? [], 'reverse.rules', problems)
  checkRules(doc.forward?.rules ?? [], 'forward.rules', problems)
  const names = new Map<string, number>()
  routes.forEach((r, i) => {
    const first = names.get(r.name)
    if (first !== undefined)
      problems.push(`reverse.routes[${i}].name: "${r.name}" is already used by reverse.routes[${first}]`)
    else names.set(r.name, i)
  })
  routes.forEach((r, i) => {
    const seen = new Map<string, number>()
    r.upstreams.forEach((u, j) => {
      const origin = new URL(u.url).origin
      const first = seen.get(origin)
      if (first !== undefined)
        problems.push(`reverse.routes[${i}].upstreams[${j}]: ${origin} is already upstreams[${first}]`)
      else seen.set(origin, j)
    })
  })
  routes.forEach((r, i) => {
    // h2 is negotiated in the TLS handshake (ALPN); h2c is HTTP/2 without TLS.
    const want = r.protocol === 'h2' ? 'https:' : r.protocol === 'h2c' ? 'http:' : null
    r.upstreams.forEach((u, j) => {
      if (want !== null && new URL(u.url).protocol !== want)
        problems.push(
          `reverse.routes[${i}].upstreams[${j}]: must be an ${want.slice(0, -1)} URL with protocol ${r.protocol}`,
        )
    })
  })
  const cacheDoc = doc.cache ?? {}
  for (const key of ['maxSize', 'maxEntrySize', 'local'])
    if (cacheDoc[key] !== undefined && parseSize(cacheDoc[key]) === null)
      problems.push(`cache.${key}: ${FORMAT_RULES.size}`)
  if (problems.length > 0) throw new ConfigError(problems.sort(), source)
  const store = cacheDoc.store ?? 'memory'
  if (store === 'redis' && doc.redis === undefined)
    problems.push('redis: is required when cache.store is "redis"')
  if (cacheDoc.local !== undefined && store !== 'redis')
    problems.push('cache.local: is a tier in front of Redis; it needs cache.store: redis')
  if (typeof doc.redis === 'object' && doc.redis !== null) {
    const given = ['url', 'cluster', 'sentinels'].filter((k) => doc.redis[k] !== undefined)
    if (given.length !== 1)
      problems.push(
        given.length === 0
          ? 'redis: needs one of url, cluster or sentinels'
          : `redis: ${given.join(' and ')} are exclusive; give one`,
      )
    if (doc.redis.sentinels !== undefined && doc.redis.name === undefined)
      problems.push('redis.name: is required with redis.sentinels (the Sentinel group name)')
    if (doc.redis.name !== undefined && doc.redis.sentinels === undefined)
      problems.push('redis.name: only means something with redis.sentinels')
  }
  const f = doc.forward
  const config: GatewayConfig = {
    forward:
      f === undefined
        ? null
        : {
            listen: parseListen(f.listen)!,
            tls: tlsConfig(f.tls),
            mode: f.mode,
            connectPorts: f.connectPorts,
            ports: f.ports,
            allow: f.allow ?? null,
            deny: f.deny,
            allowPrivate: f.allowPrivate,
            clients: clients(f.clients),
            rules: f.rules ?? [],
            accessMode: f.accessMode ?? 'enforce',
            auth: f.auth === undefined ? null : { realm: f.auth.realm, users: f.auth.users },
            cache: f.cache,
            rateLimit: rateLimit(f.rateLimit),
            timeoutMs: parseDuration(f.timeout)!,
            parent:
              f.parent === undefined
                ? null
                : {
                    url: f.parent.url,
                    username: f.parent.username ?? null,
                    password: f.parent.password ?? null,
                  },
            clientTimeouts: clientTimeouts(f.clientTimeouts),
            maxConnectionsPerClient: f.maxConnectionsPerClient ?? 256,
            proxyProtocol: proxyProtocol(f.proxyProtocol),
          },
    reverse:
      doc.reverse === undefined
        ? null
        : {
            listen: parseListen(doc.reverse.listen)!,
            tls: tlsConfig(
              doc.reverse.tls,
              // HTTP-01 cannot prove a wildcard: `*.` hosts are not domains to order.
              routes.flatMap((r) => r.hosts.filter((h) => !h.startsWith('*.'))),
            ),
            http2: doc.reverse.http2 ?? doc.reverse.tls !== undefined,
            redirectHttp:
              doc.reverse.redirectHttp === undefined ? null : parseListen(doc.reverse.redirectHttp)!,
            hsts: hsts(doc.reverse.hsts),
            trustProxy: doc.reverse.trustProxy ?? false,
            clients: clients(doc.reverse.clients),
            stripRequestHeaders: doc.reverse.stripRequestHeaders.map((h: string) => h.toLowerCase()),
            rules: doc.reverse.rules ?? [],
            accessMode: doc.reverse.accessMode ?? 'enforce',
            routes,
            headers: reverseDefaults.headers,
            redirects: reverseDefaults.redirects,
            bodyLimit: reverseDefaults.bodyLimit,
            maxHeaderSize: reverseDefaults.maxHeaderSize,
            clientTimeouts: clientTimeouts(doc.reverse.clientTimeouts),
            maxConnectionsPerClient: doc.reverse.maxConnectionsPerClient ?? 256,
            proxyProtocol: proxyProtocol(doc.reverse.proxyProtocol),
          },
    cache: {
      store,
      maxSize: parseSize(cacheDoc.maxSize ?? '64MiB')!,
      local: cacheDoc.local === undefined ? 0 : parseSize(cacheDoc.local)!,
      maxEntrySize:
        cacheDoc.maxEntrySize === undefined
          ? defaultMaxEntrySize(parseSize(cacheDoc.maxSize ?? '64MiB')!)
          : parseSize(cacheDoc.maxEntrySize)!,
      targetedCacheControl: cacheDoc.targetedCacheControl ?? [],
    },
    redis:
      doc.redis === undefined
        ? null
        : typeof doc.redis === 'string'
          ? { connection: { url: doc.redis }, prefix: 'proxykit:gateway:', rateLimits: 'fail-open' }
          : {
              connection:
                doc.redis.cluster !== undefined
                  ? { cluster: doc.redis.cluster }
                  : doc.redis.sentinels !== undefined
                    ? { sentinels: doc.redis.sentinels, name: doc.redis.name }
                    : { url: doc.redis.url },
              prefix: doc.redis.prefix ?? 'proxykit:gateway:',
              rateLimits: doc.redis.rateLimits ?? 'fail-open',
            },
    admin:
      doc.admin === undefined
        ? { listen: parseListen('127.0.0.1:9901')!, token: null }
        : { listen: parseListen(doc.admin.listen)!, token: doc.admin.token ?? null },
    log: {
      level: doc.log?.level ?? 'info',
      access: doc.log?.access ?? true,
      file: logFile(doc.log?.file),
      fields: doc.log?.fields ?? null,
    },
    shutdown: { graceMs: parseDuration(doc.shutdown?.grace ?? '10s')! },
    workers: doc.workers === 'auto' ? availableParallelism() : (doc.workers ?? 1),
  }
  const seen = new Map<string, string>()
  const listens: Array<[string, ListenAddress | undefined]> = [
    ['forward.listen', config.forward?.listen],
    ['reverse.listen', config.reverse?.listen],
    ['reverse.redirectHttp', config.reverse?.redirectHttp ?? undefined],
    ['admin.listen', config.admin?.listen],
  ]
  for (const [name, l] of listens) {
    if (l === undefined || l.port === 0) continue
    const key = `${l.host}:${l.port}`
    const other = seen.get(key)
    if (other !== undefined) problems.push(`${name}: ${key} is already taken by ${other}`)
    else seen.set(key, name)
  }
  const rev = doc.reverse
  if (rev !== undefined && rev.tls === undefined) {
    // These are about HTTPS to clients: without certificates they would be silently meaningless.
    if (rev.http2 === true) problems.push('reverse.http2: needs reverse.tls (HTTP/2 to clients is over TLS)')
    if (rev.redirectHttp !== undefined) problems.push('reverse.redirectHttp: needs reverse.tls')
    if (rev.hsts !== undefined) problems.push('reverse.hsts: needs reverse.tls')
  }
  const acmeConfig = config.reverse?.tls?.acme
  if (rev?.tls !== undefined && rev.tls.certs === undefined && rev.tls.acme === undefined)
    problems.push('reverse.tls.certs: is required (unless reverse.tls.acme obtains the certificate)')
  if (acmeConfig != null) {
    if (acmeConfig.domains.length === 0)
      problems.push('reverse.tls.acme.domains: is required when no route has a host')
    // Each worker would order its own certificate, and the CA's check would reach a worker that may not
    // hold the challenge: with Redis they share one order and answer from there.
    if (config.workers > 1 && config.redis === null)
      problems.push(
        `reverse.tls.acme: with workers (${config.workers}) needs redis, where the workers share one order and its challenges`,
      )
    if (config.reverse!.redirectHttp === null)
      problems.push(
        'reverse.redirectHttp: is required by reverse.tls.acme (HTTP-01 challenges are answered there)',
      )
  }
  // Only a maxEntrySize someone wrote can be too large: the default shrinks with maxSize (which Ajv has
  // filled in when it was left out).
  if (cacheDoc.maxEntrySize !== undefined && config.cache.maxEntrySize > config.cache.maxSize) {
    problems.push(`cache.maxEntrySize: must not be larger than cache.maxSize (${cacheDoc.maxSize})`)
  }
  if (problems.length > 0) throw new ConfigError(problems.sort(), source)
  return config
}

// `${NAME}` (an environment variable) or `${file:/path}` (a file's contents); `$${` writes a literal `${`.
const REFERENCE = /\$(\$?)\{([^}]*)\}/g
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const REQUEST_VARIABLES: ReadonlySet<string> = new Set(VARIABLES)

/**
 * Replaces `${NAME}` and `${file:/path}` in every string value of a parsed config document, so secrets
 * (tokens, passwords, Redis URLs, key paths) stay out of the file. A file's one trailing newline is
 * dropped (`echo secret > file` writes one). Throws a ConfigError naming each missing variable or
 * unreadable file and where it is used; the values never appear in an error.
 */
export function expandReferences(
  document: unknown,
  env: Record<string, string | undefined> = process.env,
  source = 'config',
): unknown {
  const problems: string[] = []
  const expand = (value: string, where: string): string =>
    value.replace(REFERENCE, (whole, escaped: string, inner: string) => {
      if (escaped === '$') return whole.slice(1)
      // Per-request variables of `headers` and `redirects` (issue 27's pinned names), expanded later.
      if (REQUEST_VARIABLES.has(inner)) return whole
      if (inner.startsWith('file:')) {
        const path = inner.slice(5)
        if (path === '') {
          problems.push(`${where}: \${file:} needs a path`)
          return ''
        }
        try {
          return readFileSync(path, 'utf8').replace(/\r?\n$/, '')
        } catch (err) {
          problems.push(
            `${where}: cannot read ${path} for \${file:${path}}: ${(err as NodeJS.ErrnoException).code ?? err}`,
          )
          return ''
        }
      }
      if (!ENV_NAME.test(inner)) {
        problems.push(
          `${where}: \${${inner}} is neither \${NAME} (an environment variable) nor \${file:/path} (write $\${ for a literal \${)`,
        )
        return ''
      }
      const v = env[inner]
      if (v === undefined) {
        problems.push(`${where}: the environment variable ${inner} (\${${inner}}) is not set`)
        return ''
      }
      return v
    })
  const walk = (node: unknown, pointer: string): unknown => {
    if (typeof node === 'string') return node.includes('${') ? expand(node, pointerToPath(pointer)) : node
    if (Array.isArray(node)) return node.map((v, i) => walk(v, `${pointer}/${i}`))
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(node))
        out[k] = walk(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)
      return out
    }
    return node
  }
  const expanded = walk(document, '')
  if (problems.length > 0) throw new ConfigError(problems, source)
  return expanded
}

/** Reads a YAML or JSON file (by extension; `.json` is JSON, anything else YAML, which includes JSON). */
export async function loadConfigFile(file: string): Promise<GatewayConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(
      [`(file): cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`],
      file,
    )
  }
  let document: unknown
  if (extname(file).toLowerCase() === '.json') {
    try {
      document = JSON.parse(text)
    } catch (err) {
      throw new ConfigError([`(file): not valid JSON: ${(err as Error).message}`], file)
    }
  } else {
    // Imported here: a gateway started from a resolved config (the library, the demo) never needs it.
    const { default: YAML, LineCounter } = await import('yaml')
    const lineCounter = new LineCounter()
    const parsed = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter })
    if (parsed.errors.length > 0) {
      // One line per place: the parser often reports one mistake several times over at the same spot.
      const problems = new Map<string, string>()
      for (const e of parsed.errors) {
        const { line, col } = lineCounter.linePos(e.pos[0])
        const at = `line ${line}, column ${col}`
        if (!problems.has(at)) problems.set(at, `${at}: not valid YAML: ${e.message}`)
      }
      throw new ConfigError([...problems.values()], file)
    }
    document = parsed.toJS()
  }
  return resolveConfig(expandReferences(document, process.env, file), file)
}
