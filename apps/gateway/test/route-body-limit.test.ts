// Issue 27 item 6: `bodyLimit` answers 413 before anything reaches the upstream when Content-Length is
// over it, cuts a chunked body that grows past it with a 413, and lets smaller bodies through whole.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('bodyLimit: 413 for a declared or chunked body over it, the upstream untouched; smaller ones pass', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      bodyLimit: '1MiB',
      routes: [
        { prefix: '/small', bodyLimit: '1KiB', upstreams: [origin.url] },
        { prefix: '/', upstreams: [origin.url] },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])

  const declared = await curl([
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--data-binary',
    'x'.repeat(2048),
    `${gw.urls.reverse}/small/up`,
  ])
  assert.equal(declared.stdout, '413')
  assert.equal(origin.hits, 0, 'a declared length over the limit never reaches the upstream')

  // Chunked, no Content-Length: counted as it arrives.
  const chunks = [Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')]
  const chunked = await request(`${gw.urls.reverse}/small/up`, {
    method: 'POST',
    body: Readable.from(chunks),
  })
  await chunked.body.dump()
  assert.equal(chunked.statusCode, 413)
  assert.equal(
    origin.requests.filter((r) => r.body.length > 1024).length,
    0,
    'the upstream never got more than the limit',
  )

  const fits = await request(`${gw.urls.reverse}/small/up`, { method: 'POST', body: 'y'.repeat(1000) })
  const echoed = (await fits.body.json()) as { body: string }
  assert.equal(fits.statusCode, 200)
  assert.equal(echoed.body.length, 1000)

  // The listener's default (1 MiB) covers the other route.
  const big = await curl([
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '--data-binary',
    'z'.repeat(4096),
    `${gw.urls.reverse}/other`,
  ])
  assert.equal(big.stdout, '200')
  assert.equal(await gw.stop(), 0)
})
