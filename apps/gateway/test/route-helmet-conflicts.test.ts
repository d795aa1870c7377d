// Issue 27's benchmark: a route's helmet headers go into each answer's head as one prepared block
// (routes/response-head.ts) instead of a dozen `setHeader()` calls per request. The conflict rule must
// not move: an upstream field of the same name (any spelling) gives way to helmet's, which is sent once
// and spelled as helmet spells it, on a proxied answer and on its cache hit alike (the hit used to send
// the names lower case), and a route's `headers.response` rule still acts on helmet's fields.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { resolveConfig, startGateway } from '../src/index.js'
import { rawHead } from './helpers/raw-head.js'

/** The raw header lines of a GET to `url` (names as sent), Date left out. */
const rawHeaders = async (url: string) => (await rawHead(url)).fields

const named = (lines: Array<[string, string]>, name: string) =>
  lines.filter(([n]) => n.toLowerCase() === name.toLowerCase())

test('helmet’s fields replace the upstream’s, once and spelled as helmet does, on a miss, a hit and under rules', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': '2',
        'cache-control': 'public, max-age=60',
        'X-Frame-Options': 'ALLOWALL',
        'x-content-type-options': 'bogus',
        'x-upstream': 'kept',
      })
      res.end('ok')
    },
  })
  t.after(() => origin.close())
  const config = resolveConfig({
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        { prefix: '/cached', upstreams: [origin.url], helmet: true, cache: true },
        {
          prefix: '/rules',
          upstreams: [origin.url],
          helmet: true,
          headers: {
            response: { set: { 'x-frame-options': 'DENY' }, remove: ['referrer-policy'] },
          },
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
    log: { access: false, level: 'silent' },
  })
  const gateway = await startGateway(config)
  t.after(() => gateway.close(0))
  const base = gateway.listeners.reverse!.url

  const miss = await rawHeaders(`${base}/cached/a`)
  const hit = await rawHeaders(`${base}/cached/a`)
  assert.match(String(named(hit, 'cache-status')[0]?.[1]), /hit/, 'the second answer is a cache hit')
  for (const [answer, lines] of [
    ['miss', miss],
    ['hit', hit],
  ] as const) {
    assert.deepEqual(named(lines, 'x-frame-options'), [['X-Frame-Options', 'SAMEORIGIN']], answer)
    assert.deepEqual(named(lines, 'x-content-type-options'), [['X-Content-Type-Options', 'nosniff']], answer)
    assert.deepEqual(named(lines, 'x-upstream'), [['x-upstream', 'kept']], answer)
  }
  const helmetNames = (lines: Array<[string, string]>) =>
    lines
      .map(([n]) => n)
      .filter((n) => /^(Content-Security|Cross-Origin|Origin-Agent|Referrer|Strict|X-)/.test(n))
  assert.ok(helmetNames(miss).length >= 10, 'helmet’s fields are on the miss')
  assert.deepEqual(helmetNames(hit), helmetNames(miss), 'a hit sends helmet’s fields as the miss does')

  const ruled = await rawHeaders(`${base}/rules/a`)
  assert.deepEqual(
    named(ruled, 'x-frame-options'),
    [['x-frame-options', 'DENY']],
    'a set rule wins over helmet',
  )
  assert.deepEqual(named(ruled, 'referrer-policy'), [], 'a remove rule takes out helmet’s field')
  assert.deepEqual(named(ruled, 'x-content-type-options'), [['X-Content-Type-Options', 'nosniff']])
})
