import { configSchema, FORMAT_RULES } from './schema.js'

// Renders the config schema as the Markdown reference in docs/gateway-config.md. The committed file is
// checked against this output by a test, so the reference cannot drift from the schema.

type Node = {
  type?: string | string[]
  enum?: unknown[]
  format?: string
  description?: string
  default?: unknown
  properties?: Record<string, Node>
  required?: string[]
  items?: Node
  additionalProperties?: boolean | Node
  if?: Node
  then?: Node
  else?: Node
  oneOf?: Node[]
  anyOf?: Node[]
  minimum?: number
  maximum?: number
  minItems?: number
  minLength?: number
}

const FORMAT_NAMES: Record<string, string> = {
  duration: 'duration',
  size: 'size',
  listen: 'listen address',
  'http-url': 'http(s) URL',
  url: 'URL',
  'proxy-url': 'proxy URL',
  'redis-url': 'redis URL',
  'path-prefix': 'path',
  hostname: 'host name',
  'host-pattern': 'destination',
  'hash-on': 'hash key',
  'ip-range': 'address or CIDR',
  'password-hash': 'password hash',
  workers: 'process count',
}

function typeOf(n: Node): string {
  if (n.if !== undefined || n.oneOf !== undefined || n.anyOf !== undefined)
    return forms(n).map(typeOf).join(' or ')
  if (n.enum !== undefined) return n.enum.map((v) => `\`${JSON.stringify(v).replace(/"/g, '')}\``).join(' | ')
  if (n.format !== undefined) return FORMAT_NAMES[n.format] ?? n.format
  const t = Array.isArray(n.type) ? n.type : [n.type ?? 'any']
  if (t.includes('array')) return `list of ${typeOf(n.items ?? {})}`
  if (t.includes('object') && typeof n.additionalProperties === 'object')
    return `map of ${typeOf(n.additionalProperties)}`
  if (t.includes('object')) return 'mapping'
  return t.join(' or ')
}

function limits(n: Node): string {
  const out: string[] = []
  if (n.minimum !== undefined) out.push(`≥ ${n.minimum}`)
  if (n.maximum !== undefined) out.push(`≤ ${n.maximum}`)
  if (n.minItems !== undefined) out.push(`at least ${n.minItems} item${n.minItems === 1 ? '' : 's'}`)
  if (n.minLength !== undefined) out.push(`at least ${n.minLength} character${n.minLength === 1 ? '' : 's'}`)
  return out.length === 0 ? '' : ` (${out.join(', ')})`
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** The forms a value may take: both sides of if/then/else, each oneOf/anyOf branch, or the node itself. */
function forms(n: Node): Node[] {
  if (n.if !== undefined) return [n.then ?? {}, n.else ?? {}]
  const list = n.oneOf ?? n.anyOf
  return list === undefined ? [n] : list.flatMap(forms)
}

/** One row per key of every object form of `node` (and of its list items), depth first. */
function rows(node: Node, path: string, out: string[], seen = new Set<string>()): void {
  for (const form of forms(node)) {
    const objects =
      form.properties !== undefined
        ? [{ base: path, object: form }]
        : forms(form.items ?? {})
            .filter((item) => item.properties !== undefined)
            .map((object) => ({ base: `${path}[]`, object }))
    for (const { base, object } of objects) {
      const required = new Set(object.required ?? [])
      for (const [key, child] of Object.entries(object.properties ?? {})) {
        const p = `${base}.${key}`
        if (seen.has(p)) continue
        seen.add(p)
        const def = child.default === undefined ? '' : `\`${JSON.stringify(child.default)}\``
        const req = required.has(key) ? '**required**' : def
        out.push(
          `| \`${p}\` | ${cell(typeOf(child))}${limits(child)} | ${req} | ${cell(child.description ?? '')} |`,
        )
        rows(child, p, out, seen)
      }
    }
  }
}

/** The Markdown reference for the gateway's config file. */
export function renderConfigReference(): string {
  const schema = configSchema as unknown as Node & { title: string }
  const out: string[] = [
    '# Gateway configuration reference',
    '',
    '<!-- Generated from apps/gateway/src/config/schema.ts by `node apps/gateway/scripts/config-doc.mjs`; do not edit by hand. -->',
    '',
    schema.description ?? '',
    '',
    'Check a file without starting anything: `proxykit-gateway --config FILE --check` (prints the resolved',
    'configuration, exits 1 with one `path: rule` line per problem).',
    '',
  ]
  for (const [key, section] of Object.entries(schema.properties ?? {})) {
    out.push(`## \`${key}\``, '', section.description ?? '', '')
    const body: string[] = []
    rows(section, key, body)
    // A section that is not only a mapping (`redis`: a URL or a mapping) says its forms, then the mapping's keys.
    if (section.properties === undefined) out.push(`Type: ${typeOf(section)}.`, '')
    if (body.length > 0)
      out.push('| key | type | default | meaning |', '| --- | --- | --- | --- |', ...body, '')
  }
  out.push('## Value formats', '', '| format | rule |', '| --- | --- |')
  for (const [format, rule] of Object.entries(FORMAT_RULES)) {
    out.push(`| ${FORMAT_NAMES[format] ?? format} | ${cell(rule)} |`)
  }
  out.push('')
  return out.join('\n')
}
