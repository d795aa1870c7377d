// Issue 26.15: a handler that returns what `res.end()` returns must type-check under the project's strict
// tsconfig. This file is compiled by `tsc -b` with the rest of the tests, so a handler type too narrow for
// it fails the build before any test runs; the test below then shows such a handler really answers.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { request } from 'undici'
import { type OriginHandler, startOrigin } from '../src/testing/index.js'

const returnsTheResponse: OriginHandler = (_req, res) => res.end('ok')

test('startOrigin takes a handler that returns res.end(...)', async (t) => {
  const inline = await startOrigin({ handler: (_req, res) => res.end('ok') })
  t.after(() => inline.close())
  const named = await startOrigin({ handler: returnsTheResponse })
  t.after(() => named.close())
  for (const origin of [inline, named]) {
    const res = await request(origin.url)
    assert.equal(res.statusCode, 200)
    assert.equal(await res.body.text(), 'ok')
  }
})
