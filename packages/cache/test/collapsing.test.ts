import assert from 'node:assert/strict'
import http from 'node:http'
import { test } from 'node:test'
import { respond, setup } from './helpers.js'

test('100 concurrent requests for one cold key reach the origin once', async (t) => {
  const s = await setup(t, (_req, res) => {
    // Slow enough that every request arrives while the first is in flight.
    setTimeout(() => {
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': '5' })
      res.end('fresh')
    }, 200)
  })
  const all = await Promise.all(Array.from({ length: 100 }, () => s.get('/cold')))
  assert.equal(s.origin.hits, 1)
  for (const r of all) {
    assert.equal(r.status, 200)
    assert.equal(r.body, 'fresh')
  }
  // Those that arrived while the fetch was in flight waited for it; later ones were plain hits.
  const collapsed = all.filter((r) => /detail=collapsed/.test(r.headers['cache-status']!)).length
  const hits = all.filter((r) => /; hit;/.test(r.headers['cache-status']!)).length
  assert.ok(collapsed > 0)
  assert.equal(hits, 99)
  assert.equal(s.app.proxyCache.metrics().collapsed, collapsed)
})

test('when the answer is not storable, the waiters go upstream themselves', async (t) => {
  const s = await setup(t, (_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'cache-control': 'no-store' })
      res.end('private')
    }, 100)
  })
  const all = await Promise.all(Array.from({ length: 10 }, () => s.get('/ns')))
  assert.equal(s.origin.hits, 10)
  for (const r of all) assert.equal(r.body, 'private')
  // Hit-for-miss: the URL is now known not storable, so the next burst does not queue behind one request.
  const collapsedBefore = s.app.proxyCache.metrics().collapsed
  await Promise.all(Array.from({ length: 10 }, () => s.get('/ns')))
  assert.equal(s.origin.hits, 20)
  assert.equal(s.app.proxyCache.metrics().collapsed, collapsedBefore, 'nobody waited')
})

test('collapse: false sends every miss upstream', async (t) => {
  const s = await setup(
    t,
    (_req, res) => {
      setTimeout(() => respond({ 'cache-control': 'max-age=60' })(_req, res, Buffer.alloc(0)), 100)
    },
    { collapse: false },
  )
  await Promise.all(Array.from({ length: 5 }, () => s.get('/x')))
  assert.equal(s.origin.hits, 5)
})

test('concurrent revalidations of one stale entry collapse too', async (t) => {
  let n = 0
  const s = await setup(t, (req, res) => {
    n++
    const first = n === 1
    setTimeout(
      () => {
        if (!first && req.headers['if-none-match'] === '"s"') {
          res.writeHead(304, { etag: '"s"', 'cache-control': 'max-age=60' })
          res.end()
          return
        }
        res.writeHead(200, { etag: '"s"', 'cache-control': 'max-age=0' })
        res.end('stale body')
      },
      first ? 0 : 150,
    )
  })
  await s.get('/s')
  const all = await Promise.all(Array.from({ length: 20 }, () => s.get('/s')))
  assert.equal(s.origin.hits, 2)
  for (const r of all) assert.equal(r.body, 'stale body')
})

test('when the leader’s client leaves, its waiters go upstream at once, not after collapseTimeout', {
  timeout: 20_000,
}, async (t) => {
  let n = 0
  const s = await setup(
    t,
    (_req, res) => {
      // The leader's answer is slow; by the time it would come, its client has gone.
      const delay = n++ === 0 ? 1500 : 0
      setTimeout(() => {
        res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': '2' })
        res.end('ok')
      }, delay)
    },
    { collapseTimeout: 60_000 },
  )
  const leader = http.get(`${s.url}/flaky`)
  leader.on('error', () => {})
  await new Promise((r) => setTimeout(r, 150))
  const waiters = Promise.all(Array.from({ length: 4 }, () => s.get('/flaky')))
  await new Promise((r) => setTimeout(r, 150))
  leader.destroy()
  const all = await waiters
  assert.deepEqual(
    all.map((r) => r.status),
    [200, 200, 200, 200],
  )
  assert.ok(all.every((r) => r.body === 'ok'))
})

test('when the leader’s upstream fails, its waiters go upstream themselves', {
  timeout: 20_000,
}, async (t) => {
  let n = 0
  const s = await setup(
    t,
    (_req, res) => {
      // The first request (the leader's) is reset after the others have queued behind it.
      if (n++ === 0) {
        setTimeout(() => res.socket?.destroy(), 300)
        return
      }
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': '2' })
      res.end('ok')
    },
    { collapseTimeout: 60_000 },
  )
  const all = await Promise.all(Array.from({ length: 5 }, () => s.get('/flaky')))
  assert.deepEqual(all.map((r) => r.status).sort(), [200, 200, 200, 200, 502])
  assert.ok(s.origin.hits >= 2)
})
