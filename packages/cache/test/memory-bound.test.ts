import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { patternStream, startOrigin } from '@proxykit/core/testing'
import { Agent, request } from 'undici'

// The bound: with a 64 MiB store, 1 GiB of distinct entries keeps RSS under 250 MB. The cache runs
// in a child process so that its RSS is measured alone; the origin (fresh bytes for every entry) and the
// client run here.
const ENTRY = 1024 * 1024
const TOTAL = 1024 ** 3

test('1 GiB of distinct entries through a 64 MiB memory store keeps RSS under 250 MB', {
  timeout: 240_000,
}, async (t) => {
  const origin = await startOrigin({
    streaming: true,
    handler: (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': ENTRY })
      patternStream(ENTRY).pipe(res)
    },
  })
  t.after(() => origin.close())
  const child = fork(fileURLToPath(new URL('./fixtures/memory-child.js', import.meta.url)), [
    origin.url,
    String(64 * 1024 * 1024),
  ])
  t.after(() => {
    if (child.exitCode === null) child.kill()
  })
  const [hello] = (await once(child, 'message')) as [{ port: number }]
  const client = new Agent({ connections: 8 })
  t.after(() => client.close())
  const count = TOTAL / ENTRY
  let next = 0
  let bytes = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const res = await request(`http://127.0.0.1:${hello.port}/e/${next++}`, { dispatcher: client })
        for await (const c of res.body) bytes += (c as Buffer).length
      }
    }),
  )
  // The most recent entries are still there: hits, not origin requests.
  const before = origin.hits
  const again = await request(`http://127.0.0.1:${hello.port}/e/${count - 1}`, { dispatcher: client })
  assert.match(String(again.headers['cache-status']), /hit/)
  await again.body.dump()
  assert.equal(origin.hits, before)

  child.send('report')
  const [r] = (await once(child, 'message')) as [
    { peakRss: number; storeSize: number; storeCount: number; stores: number },
  ]
  t.diagnostic(
    `peak RSS ${(r.peakRss / 1e6).toFixed(1)} MB, store ${r.storeCount} entries / ${r.storeSize} bytes`,
  )
  assert.equal(bytes, TOTAL, 'every byte reached the client')
  assert.equal(r.stores, count, 'every entry was stored (older ones evicted)')
  assert.ok(r.storeSize <= 64 * 1024 * 1024, `store holds ${r.storeSize}`)
  assert.ok(r.storeCount >= 50, `store keeps about 64 entries, has ${r.storeCount}`)
  assert.ok(r.peakRss < 250e6, `peak RSS ${(r.peakRss / 1e6).toFixed(1)} MB`)
})
