// Issue 27's benchmark: a route's CORS fields, set on the reply by its hook as @fastify/cors sets them,
// reach a proxied answer's head as prepared text (validated once, when recorded) wherever they are still
// what was recorded, right after helmet's block: Node no longer validates and copies each of them. What
// the answer says must not change: a Vary joined with the upstream's keeps the joined value (written by
// Node where the upstream put it), the hook's Access-Control-Allow-Origin wins over the upstream's, each
// field once, and an unlisted origin or no Origin gets the plugin's own answer.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { resolveConfig, startGateway } from '../src/index.js'
import { rawHead } from './helpers/raw-head.js'

/** The raw header lines of a GET (names as sent), Date left out. */
const rawHeaders = async (url: string, headers: Record<string, string>): Promise<string[]> =>
  (await rawHead(url, { headers })).fields.map(([n, v]) => `${n}: ${v}`)

test('CORS fields as prepared text after helmet’s, the answer’s values unchanged', async (t) => {
  const origin = await startOrigin({
    handler: (req, res) => {
      const own: Record<string, string> = { 'content-type': 'text/plain', 'content-length': '2' }
      if (req.url === '/vary') own.vary = 'Accept-Encoding'
      if (req.url === '/acao') own['access-control-allow-origin'] = '*'
      res.writeHead(200, own)
      res.end('ok')
    },
  })
  t.after(() => origin.close())
  const config = resolveConfig({
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          prefix: '/',
          upstreams: [origin.url],
          cors: { origin: ['http://app.test'], credentials: true },
          helmet: { contentSecurityPolicy: false },
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
    log: { access: false, level: 'silent' },
  })
  const gateway = await startGateway(config)
  t.after(() => gateway.close(0))
  const url = (path: string) => `${gateway.listeners.reverse!.url}${path}`
  const listed = { origin: 'http://app.test' }

  const plain = await rawHeaders(url('/plain'), listed)
  const helmetNames = plain.slice(0, plain.indexOf('vary: Origin'))
  assert.ok(helmetNames.length >= 8, `helmet's block first: ${plain.join(' | ')}`)
  assert.ok(helmetNames.every((l) => !l.startsWith('access-control-') && !/^content-/i.test(l)))
  const at = helmetNames.length
  assert.deepEqual(
    plain.slice(at, at + 3),
    [
      'vary: Origin',
      'access-control-allow-origin: http://app.test',
      'access-control-allow-credentials: true',
    ],
    'then CORS’s fields, as text',
  )
  assert.deepEqual(
    plain.slice(at + 3).filter((l) => !/^(connection|keep-alive)/i.test(l)),
    ['content-type: text/plain', 'content-length: 2'],
    'then the upstream’s',
  )

  const vary = await rawHeaders(url('/vary'), listed)
  assert.deepEqual(
    vary.filter((l) => /^vary:/i.test(l)),
    ['vary: Accept-Encoding, Origin'],
    'one Vary: the upstream’s names and the hook’s',
  )
  assert.ok(vary.includes('access-control-allow-origin: http://app.test'))
  assert.ok(vary.indexOf('vary: Accept-Encoding, Origin') > vary.indexOf('content-type: text/plain'))

  const acao = await rawHeaders(url('/acao'), listed)
  assert.deepEqual(
    acao.filter((l) => /^access-control-allow-origin:/i.test(l)),
    ['access-control-allow-origin: http://app.test'],
    'the hook’s value wins over the upstream’s, once',
  )

  const other = await rawHeaders(url('/plain'), { origin: 'http://other.test' })
  assert.equal(
    other.filter((l) => l.startsWith('access-control-allow-origin')).length,
    0,
    'an unlisted origin: not allowed',
  )
  assert.deepEqual(
    other.filter((l) => /^vary:/i.test(l)),
    ['vary: Origin'],
  )
  const none = await rawHeaders(url('/plain'), {})
  assert.equal(none.filter((l) => l.startsWith('access-control-allow-origin')).length, 0)
  const noneNames = new Set(none.map((l) => l.slice(0, l.indexOf(':')).toLowerCase()))
  assert.equal(noneNames.size, none.length, 'each field once')
})
