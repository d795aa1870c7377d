// Http1Pool keep-alive: a connection carries request after request until a response says it may not.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fetchVia, ok, poolFor, startRawOrigin } from './http1-helpers.js'

test('sequential requests reuse one connection', async (t) => {
  const origin = await startRawOrigin((req) => ok(`answer ${req.path}`))
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  for (let i = 0; i < 3; i++) {
    const r = await fetchVia(pool, { path: `/${i}` })
    assert.equal(r.error, null)
    assert.equal(r.statusCode, 200)
    assert.equal(r.body.toString(), `answer /${i}`)
  }
  assert.equal(origin.connections, 1)
  assert.deepEqual(
    origin.requests.map((r) => [r.conn, r.path]),
    [
      [0, '/0'],
      [0, '/1'],
      [0, '/2'],
    ],
  )
  assert.equal(pool.size, 1)
})

test('Connection: close and an HTTP/1.0 response each send the next request on a new connection', async (t) => {
  const answers = [
    ok('one', 'connection: close\r\n'),
    'HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\ntwo',
    ok('three'),
    ok('four'),
  ]
  const origin = await startRawOrigin((req) => answers[req.index])
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const bodies: string[] = []
  for (let i = 0; i < 4; i++) {
    const r = await fetchVia(pool, { path: `/${i}` })
    assert.equal(r.error, null)
    bodies.push(r.body.toString())
  }
  assert.deepEqual(bodies, ['one', 'two', 'three', 'four'])
  // close → new connection, HTTP/1.0 → new connection, then the third one is kept for the fourth request.
  assert.deepEqual(
    origin.requests.map((r) => r.conn),
    [0, 1, 2, 2],
  )
  await origin.whenClosed(0)
  await origin.whenClosed(1)
})

test('a one-connection pool serves 5 concurrent requests in order over one connection', async (t) => {
  const origin = await startRawOrigin((req) => ok(`answer ${req.path}`))
  t.after(() => origin.close())
  const pool = poolFor(t, origin, { connections: 1 })
  const results = await Promise.all([0, 1, 2, 3, 4].map((i) => fetchVia(pool, { path: `/${i}` })))
  assert.deepEqual(
    results.map((r) => [r.error, r.statusCode, r.body.toString()]),
    [0, 1, 2, 3, 4].map((i) => [null, 200, `answer /${i}`]),
  )
  assert.equal(origin.connections, 1)
  assert.deepEqual(
    origin.requests.map((r) => r.path),
    ['/0', '/1', '/2', '/3', '/4'],
  )
})

test("an upstream's Keep-Alive timeout with less than a second to spare is not waited out: the next request opens a new connection", async (t) => {
  const answers = [
    ok('one', 'keep-alive: timeout=1\r\n'),
    ok('two', 'keep-alive: timeout=5\r\n'),
    ok('three'),
    ok('four'),
  ]
  const origin = await startRawOrigin((req) => answers[req.index])
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  for (const body of ['one', 'two', 'three'])
    assert.equal((await fetchVia(pool, { path: '/' })).body.toString(), body)
  // timeout=1 leaves nothing to spare, so the first connection was closed; timeout=5 kept the second.
  assert.deepEqual(
    origin.requests.map((r) => r.conn),
    [0, 1, 1],
  )
})

test('an idempotent request whose kept-alive connection the upstream closes before answering is sent once more on a new connection', async (t) => {
  // The second request on each connection finds the upstream closing it, as an idle timeout crossing it.
  const origin = await startRawOrigin((req) => {
    if (req.conn === 0 && req.index === 1) {
      req.socket.end()
      return undefined
    }
    return ok(`${req.method} ${req.conn}`)
  })
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  assert.equal((await fetchVia(pool, { path: '/' })).body.toString(), 'GET 0')
  const again = await fetchVia(pool, { path: '/' })
  assert.equal(again.error, null)
  assert.equal(again.body.toString(), 'GET 1', 'answered on a second connection')
  assert.deepEqual(
    origin.requests.map((r) => [r.conn, r.method]),
    [
      [0, 'GET'],
      [0, 'GET'],
      [1, 'GET'],
    ],
  )
})

test('a POST whose kept-alive connection closes before any answer fails, and is never sent twice', async (t) => {
  const origin = await startRawOrigin((req) => {
    if (req.index === 1) {
      req.socket.end()
      return undefined
    }
    return ok('first')
  })
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  assert.equal((await fetchVia(pool, { path: '/' })).body.toString(), 'first')
  const post = await fetchVia(pool, { method: 'POST', path: '/', headers: { 'content-length': '0' } })
  assert.equal((post.error as { code?: string } | null)?.code, 'PK_UPSTREAM_CLOSED')
  assert.equal(origin.requests.length, 2, 'the POST reached the upstream once')
})
