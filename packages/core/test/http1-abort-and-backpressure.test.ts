// The controller an Http1Pool hands its handler: abort(err) ends the exchange and its connection,
// pause() stops the body until resume().
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Exchange } from '../src/index.js'
import { fetchVia, poolFor, startRawOrigin } from './http1-helpers.js'

test('abort(err) mid-body closes the upstream connection and the handler hears err exactly once', async (t) => {
  const origin = await startRawOrigin(() => 'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nfirst part')
  t.after(() => origin.close())
  const pool = poolFor(t, origin)
  const reason = new Error('client went away')
  let dataAfterAbort = 0
  let aborted = false
  const r = await fetchVia(
    pool,
    {},
    {
      onResponseData(c: Exchange) {
        if (aborted) dataAfterAbort++
        aborted = true
        c.abort(reason)
        c.abort(new Error('second abort is ignored'))
      },
    },
  )
  assert.equal(r.error, reason)
  assert.deepEqual([r.starts, r.ends, r.errors], [1, 0, 1])
  assert.equal(r.body.toString(), 'first part')
  await origin.whenClosed(0)
  // The socket's own close came after the abort: still one error, no end, no more data.
  await sleep(20)
  assert.deepEqual([r.ends, r.errors, dataAfterAbort], [0, 1, 0])
  assert.equal(pool.size, 0)
})

test('pause() stops the body until resume()', { timeout: 5_000 }, async (t) => {
  const origin = await startRawOrigin(() => 'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nabcd')
  t.after(() => origin.close())
  const pool = poolFor(t, origin, { bodyTimeout: 200 })
  const seen: string[] = []
  let controller: Exchange | null = null
  const done = fetchVia(
    pool,
    {},
    {
      onResponseData(c: Exchange, chunk: Buffer) {
        seen.push(chunk.toString())
        if (controller === null) {
          controller = c
          c.pause()
          origin.requests[0]!.socket.write('efgh')
        }
      },
    },
  )
  for (let i = 0; i < 100 && controller === null; i++) await sleep(10)
  assert.notEqual(controller, null)
  // Paused longer than bodyTimeout: no data and no timeout while the handler holds the body back.
  await sleep(400)
  assert.deepEqual(seen, ['abcd'])
  controller!.resume()
  const r = await done
  assert.equal(r.error, null)
  assert.equal(r.body.toString(), 'abcdefgh')
  assert.deepEqual(seen, ['abcd', 'efgh'])
})
