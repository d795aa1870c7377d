import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { routeConfig } from '../src/index.js'

test('routeConfig gives what request.routeOptions.config gives, for every route and for a 404', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  const seen: Array<[unknown, unknown]> = []
  app.addHook('onRequest', async (request) => {
    seen.push([routeConfig(request), request.routeOptions.config])
  })
  app.get('/a', { config: { marker: 'a' } }, async () => 'a')
  app.get('/b', { config: { marker: 'b' } }, async () => 'b')
  app.get('/plain', async () => 'plain')
  for (const url of ['/a', '/b', '/plain', '/missing', '/a', '/b', '/missing']) await app.inject(url)
  assert.equal(seen.length, 7)
  for (const [fast, viaGetter] of seen) assert.equal(fast, viaGetter)
  assert.equal((seen[0]![0] as { marker?: string }).marker, 'a')
  assert.equal((seen[5]![0] as { marker?: string }).marker, 'b')
})
