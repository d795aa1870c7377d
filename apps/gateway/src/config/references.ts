import { readFileSync } from 'node:fs'
import { VARIABLES } from '../routes/template.js'
import { ConfigError } from './config-error.js'
import { pointerToPath } from './validate.js'

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
