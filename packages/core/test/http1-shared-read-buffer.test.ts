import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { type DispatchHandler, type Exchange, Http1Pool } from '../src/index.js'

const SIZE = 4 * 1024 * 1024
const CONCURRENT = 6

/** Body `id`: bytes no other body has at the same offset. */
function bodyOf(id: number): Buffer {
  const b = Buffer.allocUnsafe(SIZE)
  for (let i = 0; i < SIZE; i++) b[i] = (id * 89 + (i % 241)) & 0xff
  return b
}

// The pool's plain-TCP sockets read into one buffer the whole process shares (read-buffer.ts). A handler
// may keep the chunks it is given (here: all of them, hashed only at the end) while other connections
// read: each chunk must be its own copy, never a view of the shared buffer.
test('chunks handed to concurrent exchanges stay intact while other connections read', async (t) => {
  const bodies = Array.from({ length: CONCURRENT }, (_, id) => bodyOf(id))
  const server = http.createServer((req, res) => {
    const id = Number(req.url!.slice(1))
    res.writeHead(200, { 'content-length': String(SIZE) })
    res.end(bodies[id])
  })
  server.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  t.after(() => server.close())
  const pool = new Http1Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  t.after(() => pool.destroy())

  const fetchKept = (id: number) =>
    new Promise<Buffer[]>((resolve, reject) => {
      const kept: Buffer[] = []
      const handler: DispatchHandler = {
        onResponseData(_c: Exchange, chunk: Buffer) {
          kept.push(chunk)
        },
        onResponseEnd() {
          resolve(kept)
        },
        onResponseError(_c: Exchange, err: Error) {
          reject(err)
        },
      }
      pool.dispatch({ method: 'GET', path: `/${id}`, headers: { host: 'origin' }, body: null }, handler)
    })
  const results = await Promise.all(bodies.map((_, id) => fetchKept(id)))
  for (let id = 0; id < CONCURRENT; id++) {
    const got = Buffer.concat(results[id]!)
    assert.equal(got.length, SIZE, `exchange ${id}: length`)
    assert.equal(
      createHash('sha256').update(got).digest('hex'),
      createHash('sha256').update(bodies[id]!).digest('hex'),
      `exchange ${id}: its own bytes`,
    )
    assert.ok(results[id]!.length > 1, `exchange ${id} arrived in several reads`)
  }
})
