// Issue 27: a hot reload (POST /reload) applies the new route keys: a response header changes, a redirect
// appears, a route turns into a `respond` route, without a restart.
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

const TOKEN = 'route-keys-reload-token'

test('reload applies headers, redirects and respond', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const config = (generation: number) => ({
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          prefix: '/app',
          upstreams: [origin.url],
          headers: { response: { set: { 'x-generation': String(generation) } } },
          ...(generation === 2 ? { redirects: [{ from: '^/app/old$', to: '/app/new', status: 301 }] } : {}),
        },
        generation === 1
          ? { prefix: '/down', upstreams: [origin.url] }
          : { prefix: '/down', respond: { status: 503, body: 'maintenance' } },
      ],
    },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
  })
  const file = await writeConfig(t, config(1))
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const get = (path: string) => request(`${gw.urls.reverse}${path}`)
  const before = await get('/app/old')
  await before.body.dump()
  assert.equal(before.statusCode, 200)
  assert.equal(before.headers['x-generation'], '1')
  const down = await get('/down')
  await down.body.dump()
  assert.equal(down.statusCode, 200)

  await writeFile(file, JSON.stringify(config(2)))
  const reload = await request(`${gw.urls.admin}/reload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  })
  assert.equal(reload.statusCode, 200, await reload.body.text())

  const after = await get('/app/old')
  await after.body.dump()
  assert.equal(after.statusCode, 301)
  assert.equal(after.headers.location, '/app/new')
  assert.equal(after.headers['x-generation'], '2')
  const maintenance = await get('/down')
  assert.equal(maintenance.statusCode, 503)
  assert.equal(await maintenance.body.text(), 'maintenance')
  assert.equal(await gw.stop(), 0)
})
