// Issue 26.4: `register(cache, { maxSize: 1024 * 1024 })` threw "maxEntrySize must not exceed maxSize" (the
// 8 MiB default entry size stayed put), and a size of 1e32 was accepted. The default entry size shrinks to an
// eighth of a small maxSize; sizes past what can be counted exactly (or buffered, for one entry) are refused
// with a message naming the option.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import cache, { MemoryStore } from '../src/index.js'
import { type Setup, setup } from './helpers.js'

/** The cache stores after the response is out: ask until the hit shows (bounded). */
async function untilHit(s: Setup, path: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (/hit/.test((await s.get(path)).headers['cache-status'] ?? '')) return
    await new Promise((r) => setTimeout(r, 20))
  }
  assert.fail(`${path} never became a hit`)
}

test('a small maxSize alone registers, with entries of an eighth of it', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(cache, { maxSize: 1024 * 1024 })
  await app.ready()
  const store = new MemoryStore({ maxSize: 1024 * 1024 })
  assert.equal(store.maxEntrySize, 128 * 1024)
  assert.equal(new MemoryStore().maxEntrySize, 8 * 1024 * 1024, 'the default stays 8 MiB of 64 MiB')
  assert.equal(new MemoryStore({ maxSize: 1024 * 1024 * 1024 }).maxEntrySize, 8 * 1024 * 1024)
})

test('with a small maxSize, a response over an eighth of it is not stored; a smaller one is', async (t) => {
  const big = 'x'.repeat(200 * 1024)
  const s = await setup(
    t,
    (req, res) => {
      res.writeHead(200, { 'cache-control': 'public, max-age=60', 'content-type': 'text/plain' })
      res.end(req.url === '/big' ? big : 'small')
    },
    { maxSize: 1024 * 1024 },
  )
  await s.get('/big')
  await s.get('/small')
  const again = await s.get('/big')
  assert.equal(again.body.length, big.length)
  assert.doesNotMatch(again.headers['cache-status'] ?? '', /hit/, '200 KiB is over 128 KiB')
  await untilHit(s, '/small')
  assert.equal(s.origin.requests.filter((r) => r.url === '/big').length, 2, 'big went upstream each time')
})

for (const [opts, message] of [
  [{ maxSize: 1e32 }, /maxSize: must be a whole number of bytes from 1 to 9007199254740991, got 1e\+32/],
  [{ maxSize: 2 ** 60, maxEntrySize: 2 ** 59 }, /maxSize: must be a whole number of bytes/],
  [{ maxEntrySize: 1e32 }, /maxEntrySize: must be a whole number of bytes from 1 to \d+, got 1e\+32/],
] as const) {
  test(`refuses ${JSON.stringify(opts)}, naming the option`, async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    await assert.rejects(
      async () => {
        await app.register(cache, opts)
        await app.ready()
      },
      { code: 'PK_INVALID_OPTION', message },
    )
    assert.throws(() => new MemoryStore(opts), { code: 'PK_INVALID_OPTION', message })
  })
}
