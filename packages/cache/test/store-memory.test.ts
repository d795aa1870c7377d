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

/** A stored head whose content does not matter here: only body sizes count. */
const head = {
  statusCode: 200,
  headers: {},
  vary: null,
  tags: [],
  policy: {} as never,
  deleteAt: Date.now() + 60_000,
  size: 0,
}

test('MemoryStore evicts the least recently used entries to stay under maxSize', async () => {
  const store = new MemoryStore({ maxSize: 100 * 1024, maxEntrySize: 20 * 1024 })
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
  assert.throws(
    () => new MemoryStore({ maxSize: 0 }),
    /maxSize: must be a whole number of bytes from 1 to \d+, got 0/,
  )
  assert.throws(
    () => new MemoryStore({ maxEntrySize: 1.5 }),
    /maxEntrySize: must be a whole number of bytes from 1 to \d+, got 1\.5/,
  )
})

test('MemoryStore counts writes in progress against maxSize: evicts for them, abandons past the bound', async () => {
  const store = new MemoryStore({ maxSize: 100 * 1024, maxEntrySize: 40 * 1024 })
  const key = (i: number) => ({ url: `http://x/${i}`, headers: {} })
  for (let i = 0; i < 3; i++) {
    const w = store.createWriteStream(key(i), head)!
    w.end(Buffer.alloc(30 * 1024))
    await finished(w)
  }
  const held = store.size
  // Three writes in progress, 30 KiB each, none ended: the stored entries make room for them.
  const open = [10, 11, 12].map((i) => store.createWriteStream(key(i), head)!)
  for (const w of open) w.write(Buffer.alloc(30 * 1024))
  assert.ok(store.pending >= 90 * 1024, `pending ${store.pending}`)
  assert.ok(store.size + store.pending <= 100 * 1024, `${store.size} + ${store.pending}`)
  assert.ok(store.size < held, 'least recently used entries evicted for the writes in progress')
  // A fourth cannot fit beside them even with nothing stored: it is abandoned, without an error.
  const fourth = store.createWriteStream(key(13), head)!
  let error: unknown = null
  fourth.on('error', (err) => {
    error = err
  })
  fourth.write(Buffer.alloc(30 * 1024))
  assert.equal(fourth.destroyed, true)
  assert.equal(error, null)
  assert.ok(store.size + store.pending <= 100 * 1024)
  // Ending and abandoning release what the writes held.
  open[0]!.end()
  await finished(open[0]!)
  open[1]!.destroy()
  open[2]!.end()
  await finished(open[2]!)
  assert.equal(store.pending, 0)
  assert.ok(store.get(key(10)))
  assert.equal(store.get(key(11)), undefined)
  assert.ok(store.get(key(12)))
  assert.ok(store.size <= 100 * 1024)
})
