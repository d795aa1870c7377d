import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { Agent, request } from 'undici'
import type { MemoryStore } from '../src/stores/memory.js'
import { SHAPES, setupFor, sleep } from './helpers.js'

// The memory store's bound covers writes in progress: each miss buffers its body until it ends, and
// nothing limits how many misses are in flight. 16 concurrent misses of 768 KiB (12 MiB in all, every
// one held open until all 16 reached the origin) go through a 2 MiB store: the store's accounted bytes
// (stored + in flight) never pass 2 MiB, writes that would are abandoned, and every client still gets
// its whole, correct body.
const N = 16
const BODY = 768 * 1024
const MAX = 2 * 1024 * 1024

for (const shape of SHAPES) {
  test(`concurrent large misses never hold more than maxSize in the memory store (${shape})`, {
    timeout: 60_000,
  }, async (t) => {
    const bodies = Array.from({ length: N }, () => randomBytes(BODY))
    let arrived = 0
    let release!: () => void
    const all = new Promise<void>((r) => {
      release = r
    })
    let maxSeen = 0
    let store!: MemoryStore
    const sample = () => {
      maxSeen = Math.max(maxSeen, store.size + store.pending)
    }
    const s = await setupFor(shape)(
      t,
      async (req, res) => {
        const body = bodies[Number(req.url!.slice(3))]!
        res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': BODY })
        res.write(body.subarray(0, BODY / 2))
        if (++arrived === N) release()
        await all
        sample()
        res.end(body.subarray(BODY / 2))
      },
      { maxSize: MAX, maxEntrySize: 1024 * 1024 },
    )
    store = s.app.proxyCache.store as MemoryStore
    const client = new Agent({ connections: N })
    t.after(() => client.close())
    const got = await Promise.all(
      bodies.map(async (_b, i) => {
        const res = await request(`${s.url}/e/${i}`, { dispatcher: client })
        const hash = createHash('sha256')
        let bytes = 0
        for await (const chunk of res.body) {
          hash.update(chunk as Buffer)
          bytes += (chunk as Buffer).length
          sample()
        }
        return { status: res.statusCode, bytes, sha256: hash.digest('hex') }
      }),
    )
    for (let i = 0; i < N; i++) {
      assert.equal(got[i]!.status, 200)
      assert.equal(got[i]!.bytes, BODY, `client ${i} got every byte`)
      assert.equal(got[i]!.sha256, createHash('sha256').update(bodies[i]!).digest('hex'), `client ${i} body`)
    }
    // The last writes settle just after their bodies end (bounded wait).
    for (let i = 0; i < 100 && store.pending !== 0; i++) await sleep(20)
    sample()
    const stores = s.app.proxyCache.metrics().stores
    t.diagnostic(`max accounted ${maxSeen} bytes, ${stores} of ${N} stored, ${store.count} held`)
    assert.ok(maxSeen <= MAX, `accounted ${maxSeen} bytes > maxSize ${MAX}`)
    assert.equal(store.pending, 0, 'every write released what it buffered')
    assert.ok(store.size <= MAX)
    assert.ok(stores >= 1, 'the store still stores')
    // What the store holds is served whole.
    const held = bodies.findIndex((_b, i) => store.get({ url: `${s.url}/e/${i}`, headers: {} }))
    if (held !== -1) {
      const hit = await request(`${s.url}/e/${held}`, { dispatcher: client })
      assert.match(String(hit.headers['cache-status']), /hit/)
      assert.ok(Buffer.from(await hit.body.arrayBuffer()).equals(bodies[held]!))
    }
  })
}
