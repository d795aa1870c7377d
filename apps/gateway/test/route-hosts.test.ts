// Issue 27 item 2: `hosts` routes by several Host names and `*.` wildcards (any subdomain, not the domain
// itself), port and case ignored; a route without hosts takes the rest.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('hosts: several names and *. wildcards pick the route; others fall through', async (t) => {
  const api = await startOrigin({ handler: (_req, res) => res.end('api') })
  const web = await startOrigin({ handler: (_req, res) => res.end('web') })
  t.after(() => Promise.all([api.close(), web.close()]))
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          name: 'api',
          prefix: '/',
          hosts: ['api.example.org', '*.api.example.org', 'API2.example.org'],
          upstreams: [api.url],
        },
        { name: 'web', prefix: '/', upstreams: [web.url] },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const port = new URL(gw.urls.reverse!).port
  const as = async (host: string) => (await curl(['-H', `host: ${host}`, `${gw.urls.reverse}/x`])).stdout
  assert.equal(await as(`api.example.org:${port}`), 'api')
  assert.equal(await as('EU.api.example.org'), 'api')
  assert.equal(await as('a.b.api.example.org'), 'api')
  assert.equal(await as('api2.example.org'), 'api')
  assert.equal(await as('example.org'), 'web')
  assert.equal(await as('xapi.example.org'), 'web', 'a wildcard needs a whole label')
  assert.equal(await as('api.example.org.evil.test'), 'web')
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.route === 'api')
  assert.equal(line.route, 'api', 'logs and metrics name the route')
  assert.equal(await gw.stop(), 0)
})
