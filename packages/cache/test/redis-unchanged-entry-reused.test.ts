// Issue 24 (shared-tier hit latency): a Redis read that returns the same bytes as the last one for that
// URL and variant returns the same entry object (no head parse, and the hit's head fields cached on the
// entry are reused), and only then: an entry rewritten with another body of the same size, or with
// another head, is read anew. What is kept is bounded (1 MiB, entries of up to 64 KiB).
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { finished } from 'node:stream/promises'
import { test } from 'node:test'
import { redisForTests } from '@proxykit/core/testing'
import { Redis } from 'ioredis'
import type { CachedResponse } from '../src/store.js'
import { RedisStore } from '../src/stores/redis.js'

const redis = await redisForTests()
test.after(async () => redis?.stop())

function head(deleteAt: number): CachedResponse {
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/plain' },
    vary: null,
    tags: [],
    policy: {} as never,
    deleteAt,
    size: 0,
  }
}

async function write(store: RedisStore, url: string, value: CachedResponse, body: Buffer) {
  const w = store.createWriteStream({ url, headers: {} }, value)
  assert.ok(w)
  w.end(body)
  await finished(w)
}

async function stores(t: import('node:test').TestContext) {
  const prefix = `test:${randomUUID()}:`
  const clients = [new Redis(redis!.url), new Redis(redis!.url)]
  const [reader, writer] = clients.map((client) => new RedisStore({ client, prefix }))
  t.after(async () => {
    await reader!.close()
    await writer!.close()
    for (const c of clients) c.disconnect()
  })
  await Promise.all([reader!.ready(), writer!.ready()])
  return { reader: reader!, writer: writer! }
}

test('unchanged bytes: the same entry; another body or head: a new one', {
  skip: redis === null,
}, async (t) => {
  const { reader, writer } = await stores(t)
  const key = { url: 'http://x/same', headers: {} }
  const value = head(Date.now() + 60_000)
  await write(writer, key.url, value, Buffer.from('body-one'))
  const first = await reader.get(key)
  assert.equal(first?.body.toString(), 'body-one')
  assert.equal(await reader.get(key), first, 'an unchanged entry is not built again')

  // Another instance stores the same head (byte for byte) with another body of the same size.
  await write(writer, key.url, value, Buffer.from('body-two'))
  const second = await reader.get(key)
  assert.equal(second?.body.toString(), 'body-two')
  assert.notEqual(second, first)
  assert.equal(await reader.get(key), second)

  // And then another head.
  await write(
    writer,
    key.url,
    { ...value, headers: { 'content-type': 'text/html' } },
    Buffer.from('body-two'),
  )
  const third = await reader.get(key)
  assert.equal(third?.headers['content-type'], 'text/html')
  assert.notEqual(third, second)

  // A purge: gone, whatever was kept.
  await writer.delete(key)
  assert.equal(await reader.get(key), undefined)
})

test('what is kept is bounded', { skip: redis === null }, async (t) => {
  const { reader, writer } = await stores(t)
  const value = head(Date.now() + 60_000)
  const big = { url: 'http://x/big', headers: {} }
  await write(writer, big.url, value, Buffer.alloc(65 * 1024, 'b'))
  const once = await reader.get(big)
  assert.equal(once?.body.length, 65 * 1024)
  assert.notEqual(await reader.get(big), once, 'an entry over 64 KiB is not kept')

  // 20 entries of 60 KiB: more than 1 MiB, so the least recently read is dropped.
  const keys = Array.from({ length: 20 }, (_, i) => ({ url: `http://x/${i}`, headers: {} }))
  for (const k of keys) await write(writer, k.url, value, Buffer.alloc(60 * 1024, 'x'))
  const firsts = []
  for (const k of keys) firsts.push(await reader.get(k))
  assert.equal(await reader.get(keys[19]!), firsts[19], 'the most recent is kept')
  assert.notEqual(await reader.get(keys[0]!), firsts[0], 'the least recently read was dropped')
})
