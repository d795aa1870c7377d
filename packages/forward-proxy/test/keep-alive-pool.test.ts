import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('sequential absolute-form requests to one origin reuse one upstream keep-alive connection', async (t) => {
  const origin = await startOrigin()
  let connections = 0
  origin.server.on('connection', () => connections++)
  // Idle connections are kept for a minute on both sides, so a slow machine cannot make this pass by luck
  // or fail by a timeout.
  origin.server.keepAliveTimeout = 60_000
  const proxy = await startProxy({ keepAliveTimeout: 60_000 })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  // Each request comes on its own client connection (closed after it): only the upstream side is pooled.
  for (let i = 0; i < 5; i++) {
    const res = await send(
      proxy.port,
      `GET http://127.0.0.1:${origin.port}/r${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    )
    assert.equal(res.statusCode, 200)
    assert.equal(JSON.parse(res.body.toString()).url, `/r${i}`)
  }
  assert.equal(origin.hits, 5)
  assert.equal(connections, 1)
  // The client's Connection: close is hop-by-hop: it did not end the upstream connection.
  assert.equal(origin.openSockets, 1)
})
