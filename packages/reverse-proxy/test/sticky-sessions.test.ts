import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, namedOrigins, startProxy } from './helpers.js'

test('a sticky key stays on its upstream and only about 1/N of keys move when one is added or removed', async (t) => {
  const origins = await namedOrigins(t, 3)
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        balancer: 'consistent-hash',
        hashOn: 'cookie:sid',
        upstreams: origins.map((o) => o.url),
      },
    ],
  })
  const agent = client(t)
  const keys = Array.from({ length: 240 }, (_, i) => `session-${i}`)
  const where = async () => {
    const out: string[] = []
    for (const k of keys)
      out.push((await get(agent, `${proxy.url}/`, { headers: { cookie: `theme=dark; sid=${k}` } })).text)
    return out
  }
  const first = await where()
  assert.deepEqual(await where(), first, 'every key stays on its upstream')
  assert.equal(new Set(first).size, 3)

  const fourth = await startOrigin({
    handler: (_q, res) => {
      res.end('origin-3')
    },
  })
  t.after(() => fourth.close())
  proxy.app.reverseProxy.addUpstream('app', fourth.url)
  const afterAdd = await where()
  const moved = afterAdd.filter((o, i) => o !== first[i])
  assert.ok(
    moved.length >= 240 / 4 / 2 && moved.length <= (240 / 4) * 1.6,
    `adding a 4th moved ${moved.length} of 240`,
  )
  assert.ok(
    moved.every((o) => o === 'origin-3'),
    'keys only move to the new upstream',
  )

  await proxy.app.reverseProxy.removeUpstream('app', origins[0]!.url)
  const afterRemove = await where()
  for (let i = 0; i < keys.length; i++) {
    if (afterAdd[i] !== 'origin-0')
      assert.equal(afterRemove[i], afterAdd[i], 'keys of the other upstreams stay')
    else assert.notEqual(afterRemove[i], 'origin-0')
  }
})
