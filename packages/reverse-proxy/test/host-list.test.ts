import assert from 'node:assert/strict'
import { test } from 'node:test'
import { client, get, namedOrigins, startProxy } from './helpers.js'

test('a route takes a list of hosts and *. wildcards (any subdomain at any depth, not the domain itself)', async (t) => {
  const [a, b] = await namedOrigins(t, 2)
  const proxy = await startProxy(t, {
    routes: [
      { name: 'a', host: ['a.test', '*.apps.test'], upstreams: [a!.url] },
      { name: 'b', upstreams: [b!.url] },
    ],
  })
  const agent = client(t)
  const body = async (host: string) => (await get(agent, `${proxy.url}/`, { headers: { host } })).text
  assert.equal(await body('a.test'), 'origin-0')
  assert.equal(await body(`A.TEST:${proxy.port}`), 'origin-0')
  assert.equal(await body('x.apps.test'), 'origin-0')
  assert.equal(await body('x.y.apps.test'), 'origin-0')
  assert.equal(await body('apps.test'), 'origin-1')
  assert.equal(await body('xapps.test'), 'origin-1')
  assert.equal(await body('a.test.evil'), 'origin-1')
})
