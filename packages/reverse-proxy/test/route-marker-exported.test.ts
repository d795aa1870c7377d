// Issue 25 item 1: the marker on the reverse proxy's Fastify routes is exported by the plugin and typed
// through FastifyContextConfig (`config[kReverseRoute]`), not a bare string an app must copy. An app's
// onRoute hook sees it on each of our routes (and on none of its own), and a request carries it in its
// route config, so an app can give each proxy route settings of its own.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { kReverseRoute, reverseRouteName } from '../src/index.js'
import { client, get, startProxy } from './helpers.js'

test('each proxy route is marked with its name under kReverseRoute, the app routes are not', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-length': '2' })
      res.end('ok')
    },
  })
  t.after(() => origin.close())
  const declared: Array<[string, string | undefined]> = []
  const answered: Array<string | undefined> = []
  const proxy = await startProxy(
    t,
    {
      routes: [
        { name: 'api', prefix: '/api', upstreams: [origin.url] },
        { name: 'web', prefix: '/web', upstreams: [origin.url] },
      ],
    },
    {
      before: (app) => {
        app.addHook('onRoute', (route) => {
          if (route.method === 'GET' || (Array.isArray(route.method) && route.method.includes('GET')))
            declared.push([route.url, reverseRouteName(route.config)])
        })
        app.addHook('onRequest', (request, _reply, done) => {
          // Typed: FastifyContextConfig declares the symbol key, no cast needed.
          const name: string | undefined = request.routeOptions.config[kReverseRoute]
          answered.push(name)
          done()
        })
        app.get('/own', async () => 'own')
      },
    },
  )
  assert.deepEqual(declared.sort(), [
    ['/api', 'api'],
    ['/api/*', 'api'],
    ['/own', undefined],
    ['/web', 'web'],
    ['/web/*', 'web'],
  ])
  const agent = client(t)
  for (const path of ['/api/x', '/web', '/own'])
    assert.equal((await get(agent, `${proxy.url}${path}`)).status, 200)
  assert.deepEqual(answered, ['api', 'web', undefined])
  assert.equal(kReverseRoute, Symbol.for('proxykit.reverseProxy.route'))
})
