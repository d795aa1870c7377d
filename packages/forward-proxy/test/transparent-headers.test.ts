import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

test('transparent mode adds Via and Forwarded/X-Forwarded-For; an untrusted client cannot forge them', async (t) => {
  const origin = await startOrigin()
  const proxy = await startProxy({ mode: 'transparent', pseudonym: 'edge-1' })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const res = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nVia: 1.0 client-side\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nProxy-Authorization: Basic dTpw\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 200)
  const seen = origin.requests[0]!.headers
  assert.equal(seen.via, '1.0 client-side, 1.1 edge-1')
  assert.equal(seen['x-forwarded-for'], '127.0.0.1')
  assert.equal(seen.forwarded, 'for=127.0.0.1;proto=http')
  assert.equal(seen['proxy-authorization'], undefined)
  assert.equal(res.headers.via, '1.1 edge-1')
})

test('transparent mode with a trusted peer keeps and appends what it says', async (t) => {
  const origin = await startOrigin()
  const proxy = await startProxy({ mode: 'transparent', pseudonym: 'edge-2', trustProxy: '127.0.0.1' })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))
  const res = await send(
    proxy.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.9\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 200)
  assert.equal(origin.requests[0]!.headers['x-forwarded-for'], '10.0.0.9, 127.0.0.1')
})
