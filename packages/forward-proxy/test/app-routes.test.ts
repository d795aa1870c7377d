import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FORWARD_PATH } from '@proxykit/core'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test("absolute-form GET http://x/health goes to x, never to the app's own /health; origin-form still does", async (t) => {
  const origin = await startOrigin()
  let appHits = 0
  const proxy = await startProxy({}, (app) => {
    app.get('/health', async () => {
      appHits++
      return 'app is healthy\n'
    })
  })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const proxied = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(proxied.statusCode, 200)
  assert.equal(JSON.parse(proxied.body.toString()).url, '/health')
  assert.equal(origin.hits, 1)
  assert.equal(appHits, 0)

  const local = await send(proxy.port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(local.statusCode, 200)
  assert.equal(local.body.toString(), 'app is healthy\n')
  assert.equal(appHits, 1)

  // The internal route is not reachable by its path.
  const internal = await send(
    proxy.port,
    `GET ${FORWARD_PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(internal.statusCode, 404)
  const internalPost = await send(
    proxy.port,
    `POST ${FORWARD_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`,
  )
  assert.equal(internalPost.statusCode, 404)
  assert.equal(origin.hits, 1)
})
