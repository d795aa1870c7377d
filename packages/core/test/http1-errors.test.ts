// How an Http1Pool fails: a refused connect, a graceful close, and a destroy with requests waiting.
import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { test } from 'node:test'
import { type Exchange, Http1Pool } from '../src/index.js'
import { codeOf, fetchVia, ok, poolFor, startRawOrigin } from './http1-helpers.js'

test('connecting to a closed port gives ECONNREFUSED', async (t) => {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const pool = new Http1Pool(`http://127.0.0.1:${port}`)
  t.after(() => pool.destroy())
  const r = await fetchVia(pool)
  assert.equal(codeOf(r.error), 'ECONNREFUSED')
  assert.deepEqual([r.starts, r.ends, r.errors], [0, 0, 1])
})

test('close() lets the request in flight finish, then closes the connection', async (t) => {
  let answer: (() => void) | null = null
  const origin = await startRawOrigin((req) => {
    answer = () => req.socket.write(ok('late but whole'))
    return undefined
  })
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const order: string[] = []
  const inFlight = fetchVia(pool).then((r) => {
    order.push('response')
    return r
  })
  for (let i = 0; i < 100 && answer === null; i++) await new Promise((r) => setTimeout(r, 10))
  const closed = pool.close().then(() => order.push('closed'))
  const refused = await fetchVia(pool)
  assert.equal(codeOf(refused.error), 'PK_UPSTREAM_CLOSED')
  answer!()
  const r = await inFlight
  await closed
  assert.equal(r.error, null)
  assert.equal(r.body.toString(), 'late but whole')
  assert.deepEqual(order, ['response', 'closed'])
  assert.equal(pool.size, 0)
  await origin.whenClosed(0)
  assert.equal(origin.requests.length, 1)
})

test('destroy() fails a queued request and the one in flight', async (t) => {
  const origin = await startRawOrigin(() => undefined)
  t.after(() => origin.close())
  const pool = poolFor(t, origin, { connections: 1 })
  const inFlight = fetchVia(pool, { path: '/a' })
  let queuedStarted: Exchange | null = null
  const queued = fetchVia(
    pool,
    { path: '/b' },
    {
      onRequestStart(c: Exchange) {
        queuedStarted = c
      },
    },
  )
  assert.notEqual(queuedStarted, null)
  for (let i = 0; i < 100 && origin.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
  assert.deepEqual(
    origin.requests.map((r) => r.path),
    ['/a'],
  )
  await pool.destroy()
  const [a, b] = await Promise.all([inFlight, queued])
  assert.equal(codeOf(b.error), 'PK_UPSTREAM_DESTROYED')
  assert.equal(codeOf(a.error), 'PK_UPSTREAM_DESTROYED')
  assert.deepEqual([a.errors, b.errors, a.ends, b.ends], [1, 1, 0, 0])
  assert.equal(pool.size, 0)
  await origin.whenClosed(0)
  assert.equal(origin.connections, 1)
})
