import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { renderConfigReference } from '../src/config/doc.js'

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
  assert.match(doc, /\| `cache\.maxSize` \| size \| `"256MiB"` \|/)
  assert.match(doc, /\| http\(s\) URL \| must be an http\(s\) URL/)
})
