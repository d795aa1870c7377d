import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { extname } from 'node:path'
import { resolveReverseDefaults } from '../routes/config.js'
import {
  checkCacheSizes,
  checkListens,
  checkMaxEntrySize,
  checkRedis,
  checkReverseTls,
  checkRoutes,
} from './checks.js'
import { ConfigError } from './config-error.js'
import { expandReferences } from './references.js'
import {
  resolveCache,
  resolveForward,
  resolveLog,
  resolveRedis,
  resolveReverse,
  resolveRoute,
} from './sections.js'
import { checkRules } from './security.js'
import type { GatewayConfig, RouteConfig } from './types.js'
import { parseDuration, parseListen } from './units.js'
import { validateDocument } from './validate.js'

export { ConfigError } from './config-error.js'

/**
 * Validates a parsed config document and resolves it: defaults filled in, durations in ms, sizes in
 * bytes, listen addresses split. Throws a ConfigError listing every problem as `path: rule`.
 */
export function resolveConfig(document: unknown, source = 'config'): GatewayConfig {
  const doc = structuredClone(document ?? {}) as any
  validateDocument(doc, source)
  const problems: string[] = []
  const reverseDefaults = resolveReverseDefaults(doc.reverse ?? {}, problems)
  const routes: RouteConfig[] = (doc.reverse?.routes ?? []).map((r: any, i: number) =>
    resolveRoute(r, i, doc.reverse, reverseDefaults, problems),
  )
  checkRules(doc.reverse?.rules ?? [], 'reverse.rules', problems)
  checkRules(doc.forward?.rules ?? [], 'forward.rules', problems)
  checkRoutes(routes, problems)
  const cacheDoc = doc.cache ?? {}
  checkCacheSizes(cacheDoc, problems)
  // resolveCache parses the sizes that checkCacheSizes vouches for.
  if (problems.length > 0) throw new ConfigError(problems.sort(), source)
  checkRedis(doc, problems)
  const config: GatewayConfig = {
    forward: resolveForward(doc.forward),
    reverse: resolveReverse(doc.reverse, routes, reverseDefaults),
    cache: resolveCache(cacheDoc),
    redis: resolveRedis(doc.redis),
    admin:
      doc.admin === undefined
        ? { listen: parseListen('127.0.0.1:9901')!, token: null }
        : { listen: parseListen(doc.admin.listen)!, token: doc.admin.token ?? null },
    log: resolveLog(doc.log),
    shutdown: { graceMs: parseDuration(doc.shutdown?.grace ?? '10s')! },
    workers: doc.workers === 'auto' ? availableParallelism() : (doc.workers ?? 1),
  }
  checkListens(config, problems)
  checkReverseTls(doc.reverse, config, problems)
  checkMaxEntrySize(cacheDoc, config, problems)
  if (problems.length > 0) throw new ConfigError(problems.sort(), source)
  return config
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
