import assert from 'node:assert/strict'
import { finished } from 'node:stream/promises'
import { test } from 'node:test'
import { MemoryStore } from '../src/index.js'
import { storeConformance } from './store-conformance.js'

storeConformance(
  'MemoryStore',
  async () => new MemoryStore({ maxSize: 16 * 1024 * 1024, maxEntrySize: 1024 * 1024 }),
  1024 * 1024,
)

test('MemoryStore evicts the least recently used entries to stay under maxSize', async () => {
  const store = new MemoryStore({ maxSize: 100 * 1024, maxEntrySize: 20 * 1024 })
  const head = {
    statusCode: 200,
    headers: {},
    vary: null,
    tags: [],
    policy: {} as never,
    deleteAt: Date.now() + 60_000,
    size: 0,
  }
  const put = async (i: number) => {
    const w = store.createWriteStream({ url: `http://x/${i}`, headers: {} }, head)!
    w.end(Buffer.alloc(10 * 1024))
    await finished(w)
  }
  for (let i = 0; i < 9; i++) await put(i)
  assert.ok(store.get({ url: 'http://x/0', headers: {} }), 'entry 0 used: now most recent')
  for (let i = 9; i < 12; i++) await put(i)
  assert.ok(store.size <= 100 * 1024)
  assert.ok(store.get({ url: 'http://x/0', headers: {} }), 'recently used entry kept')
  assert.equal(store.get({ url: 'http://x/1', headers: {} }), undefined, 'least recently used evicted')
  assert.ok(store.get({ url: 'http://x/11', headers: {} }))
})

test('MemoryStore refuses bad sizes', () => {
  assert.throws(() => new MemoryStore({ maxSize: 0 }), /maxSize must be a positive integer/)
  assert.throws(() => new MemoryStore({ maxEntrySize: 1.5 }), /maxEntrySize must be a positive integer/)
})
