// Issue 26.4: `cache: { maxSize: 4MiB }` was refused with "cache.maxEntrySize: must not be larger than
// cache.maxSize", a key the user never wrote, and `maxSize: 1e32` was accepted. The defaults are
// @proxykit/cache's (64 MiB, entries of 8 MiB or an eighth of a smaller maxSize); sizes have an upper bound.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULTS, defaultMaxEntrySize } from '@proxykit/cache'
import { ConfigError, resolveConfig } from '../src/config/parse.js'

function problems(document: unknown): string[] {
  try {
    resolveConfig(document)
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return err.problems
  }
  assert.fail(`expected ${JSON.stringify(document)} to be refused`)
}

test('a small cache.maxSize alone loads, its entry size an eighth of it', () => {
  const config = resolveConfig({ cache: { maxSize: '4MiB' } })
  assert.equal(config.cache.maxSize, 4 * 1024 * 1024)
  assert.equal(config.cache.maxEntrySize, 512 * 1024)
})

test('the gateway’s cache defaults are @proxykit/cache’s', () => {
  const config = resolveConfig({})
  assert.equal(config.cache.maxSize, DEFAULTS.maxSize)
  assert.equal(config.cache.maxEntrySize, DEFAULTS.maxEntrySize)
  assert.equal(config.cache.maxEntrySize, defaultMaxEntrySize(config.cache.maxSize))
})

test('a written maxEntrySize larger than maxSize is refused, naming what was written', () => {
  assert.deepEqual(problems({ cache: { maxEntrySize: '100MiB' } }), [
    'cache.maxEntrySize: must not be larger than cache.maxSize (64MiB)',
  ])
  assert.deepEqual(problems({ cache: { maxSize: '1MiB', maxEntrySize: '2MiB' } }), [
    'cache.maxEntrySize: must not be larger than cache.maxSize (1MiB)',
  ])
})

test('sizes have an upper bound, in numbers and in strings', () => {
  for (const maxSize of [1e32, '1e32', '9000000000GiB', 0]) {
    const found = problems({ cache: { maxSize } })
    assert.ok(
      found.some((p) => p.startsWith('cache.maxSize: must be')),
      `${JSON.stringify(maxSize)}: ${found.join('\n')}`,
    )
  }
})
