import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { finished } from 'node:stream/promises'
import { type TestContext, test } from 'node:test'
import type { CachedResponse, CacheKey, CacheStore } from '../src/index.js'
import { cachedResponse } from './entries.js'

/**
 * The one conformance suite every store passes (undici's cache-store-test-utils in spirit): call it from
 * the store's own test file with a factory. `maxEntrySize` is what the factory configured.
 */
export function storeConformance(
  name: string,
  make: (t: TestContext) => Promise<CacheStore | null>,
  maxEntrySize: number,
): void {
  const url = () => `http://example.test/${randomUUID()}?q=1`
  const head = (over: Partial<CachedResponse> = {}): CachedResponse =>
    cachedResponse(
      {
        headers: { 'content-type': 'application/octet-stream', etag: '"1"', 'set-cookie': ['a=1', 'b=2'] },
        ...over,
      },
      { etag: '"1"' },
    )
  const put = async (store: CacheStore, key: CacheKey, value: CachedResponse, body: Buffer[]) => {
    const w = store.createWriteStream(key, value)
    assert.ok(w, 'createWriteStream returned a stream')
    for (const c of body) w.write(c)
    w.end()
    await finished(w)
  }
  const it = (title: string, fn: (store: CacheStore, t: TestContext) => Promise<void>) =>
    test(`${name}: ${title}`, async (t) => {
      const store = await make(t)
      if (store === null) return t.skip('store unavailable here')
      await fn(store, t)
    })

  it('an unknown URL is undefined (uri-miss)', async (store) => {
    assert.equal(await store.get({ url: url(), headers: {} }), undefined)
  })

  it('stores head and body, binary-safe, and returns them', async (store) => {
    const key = { url: url(), headers: {} }
    const bytes = Buffer.alloc(256)
    for (let i = 0; i < 256; i++) bytes[i] = i
    const big = randomBytes(300 * 1024)
    await put(store, key, head(), [bytes, big])
    const got = await store.get(key)
    assert.ok(got)
    assert.equal(got.statusCode, 200)
    assert.deepEqual(got.headers['set-cookie'], ['a=1', 'b=2'])
    assert.equal(got.policy.etag, '"1"')
    assert.equal(got.size, 256 + big.length)
    assert.ok(got.body.equals(Buffer.concat([bytes, big])))
  })

  it('selects variants by their Vary values; null when the URL is known but none matches', async (store) => {
    const u = url()
    await put(
      store,
      { url: u, headers: { 'accept-language': 'en' } },
      head({ vary: { 'accept-language': 'en' } }),
      [Buffer.from('en')],
    )
    await put(store, { url: u, headers: {} }, head({ vary: { 'accept-language': null } }), [
      Buffer.from('none'),
    ])
    assert.equal((await store.get({ url: u, headers: { 'accept-language': 'en' } }))?.body.toString(), 'en')
    assert.equal((await store.get({ url: u, headers: {} }))?.body.toString(), 'none')
    assert.equal(await store.get({ url: u, headers: { 'accept-language': 'fr' } }), null)
  })

  it('a new write of the same variant replaces the old one', async (store) => {
    const key = { url: url(), headers: {} }
    await put(store, key, head(), [Buffer.from('old')])
    await put(store, key, head(), [Buffer.from('new')])
    assert.equal((await store.get(key))?.body.toString(), 'new')
  })

  it('delete removes every variant of a URL and nothing else', async (store) => {
    const u = url()
    const other = { url: url(), headers: {} }
    await put(store, { url: u, headers: { x: '1' } }, head({ vary: { x: '1' } }), [Buffer.from('1')])
    await put(store, { url: u, headers: { x: '2' } }, head({ vary: { x: '2' } }), [Buffer.from('2')])
    await put(store, other, head(), [Buffer.from('o')])
    await store.delete({ url: u })
    assert.equal(await store.get({ url: u, headers: { x: '1' } }), undefined)
    assert.equal(await store.get({ url: u, headers: { x: '2' } }), undefined)
    assert.equal((await store.get(other))?.body.toString(), 'o')
  })

  it('deleteTag removes the URLs stored with a tag', async (store) => {
    const tag = `t-${randomUUID()}`
    const a = { url: url(), headers: {} }
    const b = { url: url(), headers: {} }
    const c = { url: url(), headers: {} }
    await put(store, a, head({ tags: [tag, 'x'] }), [Buffer.from('a')])
    await put(store, b, head({ tags: [tag] }), [Buffer.from('b')])
    await put(store, c, head({ tags: ['other'] }), [Buffer.from('c')])
    await store.deleteTag(tag)
    assert.equal(await store.get(a), undefined)
    assert.equal(await store.get(b), undefined)
    assert.ok(await store.get(c))
  })

  it('delete and deleteTag answer how many entries (variants) they removed, 0 for none', async (store) => {
    const u = url()
    const tag = `t-${randomUUID()}`
    await put(store, { url: u, headers: { x: '1' } }, head({ vary: { x: '1' } }), [Buffer.from('1')])
    await put(store, { url: u, headers: { x: '2' } }, head({ vary: { x: '2' } }), [Buffer.from('2')])
    assert.equal(await store.delete({ url: u }), 2)
    assert.equal(await store.delete({ url: u }), 0, 'already gone')
    assert.equal(await store.delete({ url: url() }), 0, 'never stored')
    const a = url()
    await put(store, { url: a, headers: { x: '1' } }, head({ vary: { x: '1' }, tags: [tag] }), [
      Buffer.from('1'),
    ])
    await put(store, { url: a, headers: { x: '2' } }, head({ vary: { x: '2' }, tags: [tag] }), [
      Buffer.from('2'),
    ])
    await put(store, { url: url(), headers: {} }, head({ tags: [tag, 'other'] }), [Buffer.from('b')])
    await put(store, { url: url(), headers: {} }, head({ tags: ['other'] }), [Buffer.from('c')])
    assert.equal(await store.deleteTag(tag), 3)
    assert.equal(await store.deleteTag(tag), 0, 'already gone')
    assert.equal(await store.deleteTag(`t-${randomUUID()}`), 0, 'unknown tag')
  })

  it('an entry is gone after deleteAt', async (store) => {
    const key = { url: url(), headers: {} }
    await put(store, key, head({ deleteAt: Date.now() + 300 }), [Buffer.from('short')])
    assert.ok(await store.get(key))
    await new Promise((r) => setTimeout(r, 600))
    assert.equal(await store.get(key), undefined)
  })

  it('a destroyed write stream stores nothing', async (store) => {
    const key = { url: url(), headers: {} }
    const w = store.createWriteStream(key, head())
    assert.ok(w)
    w.write(Buffer.from('part'))
    w.destroy()
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(await store.get(key), undefined)
  })

  it('an entry growing past maxEntrySize is abandoned without failing the writer', async (store) => {
    const key = { url: url(), headers: {} }
    const chunk = Buffer.alloc(64 * 1024, 1)
    const w = store.createWriteStream(key, head())
    if (w === undefined) return
    let errored = false
    w.on('error', () => {
      errored = true
    })
    for (let n = 0; n <= maxEntrySize && !w.destroyed; n += chunk.length) w.write(chunk)
    if (!w.destroyed) w.end()
    await new Promise((r) => w.once('close', r))
    assert.equal(errored, false)
    assert.equal(w.destroyed, true, 'abandoned: the store destroyed its stream')
    assert.equal(await store.get(key), undefined)
  })

  const locking = (
    title: string,
    fn: (store: Required<Pick<CacheStore, 'acquire' | 'release' | 'locked'>>) => Promise<void>,
  ) =>
    it(`lock: ${title}`, async (store, t) => {
      if (store.acquire === undefined) return t.skip('the store has no lock (optional)')
      assert.ok(store.release && store.locked, 'acquire, release and locked come together')
      await fn(store as Required<CacheStore>)
    })

  locking('one holder at a time; release frees it for the next', async (store) => {
    const key = { url: url() }
    assert.equal(await store.locked(key), false)
    const token = await store.acquire(key, 10_000)
    assert.equal(typeof token, 'string')
    assert.equal(await store.locked(key), true)
    assert.equal(await store.acquire(key, 10_000), null, 'held')
    assert.equal((await store.acquire({ url: url() }, 10_000)) !== null, true, 'another URL is free')
    await store.release(key, token!)
    assert.equal(await store.locked(key), false)
    assert.equal(typeof (await store.acquire(key, 10_000)), 'string')
  })

  locking('release with a stale token leaves the new holder', async (store) => {
    const key = { url: url() }
    const first = await store.acquire(key, 200)
    assert.ok(first)
    await new Promise((r) => setTimeout(r, 400))
    assert.equal(await store.locked(key), false, 'lapsed after ttlMs')
    const second = await store.acquire(key, 10_000)
    assert.ok(second)
    await store.release(key, first)
    assert.equal(await store.locked(key), true)
    await store.release(key, second)
    assert.equal(await store.locked(key), false)
  })
}
