import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { renderConfigReference } from '../src/config/doc.js'
import { configSchema } from '../src/config/schema.js'

test('docs/gateway-config.md is what the schema generates (run scripts/config-doc.mjs)', async () => {
  const committed = await readFile(new URL('../../../../docs/gateway-config.md', import.meta.url), 'utf8')
  assert.equal(committed, renderConfigReference())
})

test('the reference documents every key, default and format', () => {
  const doc = renderConfigReference()
  for (const key of [
    '`reverse.routes[].upstreams[].weight`',
    '`reverse.routes[].healthCheck.interval`',
    '`forward.auth.users`',
    '`cache.maxSize`',
    '`admin.token`',
    '`shutdown.grace`',
  ]) {
    assert.ok(doc.includes(key), key)
  }
  assert.match(doc, /\| `cache\.maxSize` \| size \| `"64MiB"` \|/)
  assert.match(doc, /\| http\(s\) URL \| must be an http\(s\) URL/)
})

type SchemaNode = {
  properties?: Record<string, SchemaNode>
  items?: SchemaNode
  if?: SchemaNode
  then?: SchemaNode
  else?: SchemaNode
  oneOf?: SchemaNode[]
  anyOf?: SchemaNode[]
}

/** Every key path the schema accepts, through every form a value may take (if/then/else, oneOf, anyOf). */
function keyPaths(node: SchemaNode, path: string, out: Set<string>): Set<string> {
  for (const branch of [node.then, node.else, ...(node.oneOf ?? []), ...(node.anyOf ?? [])])
    if (branch !== undefined) keyPaths(branch, path, out)
  if (node.items !== undefined) keyPaths(node.items, `${path}[]`, out)
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const p = path === '' ? key : `${path}.${key}`
    out.add(p)
    keyPaths(child, p, out)
  }
  return out
}

// Issue 26 item 17: the object form of `redis` (url, prefix, rateLimits) was missing from the reference
// while the test above, which looked for a hand-picked list, passed. This one asks the schema.
test('the reference has a row for every key of the schema, object forms included', () => {
  const doc = renderConfigReference()
  const paths = keyPaths(configSchema as unknown as SchemaNode, '', new Set())
  for (const p of ['redis.url', 'redis.prefix', 'redis.rateLimits', 'reverse.routes[].upstreams[].url'])
    assert.ok(paths.has(p), `the walk sees ${p}`)
  // A top-level key is a section heading; every other key a table row.
  const documented = (p: string) =>
    /[.[]/.test(p) ? doc.includes(`| \`${p}\` |`) : doc.includes(`\n## \`${p}\`\n`)
  const missing = [...paths].filter((p) => !documented(p))
  assert.deepEqual(missing, [], 'keys without a row in docs/gateway-config.md')
})
