import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { client, get, namedOrigins, startProxy, tally } from './helpers.js'

test('upstreams are added, drained (waiting for in-flight requests) and removed at run time', async (t) => {
  const release: Array<() => void> = []
  const slow = await startOrigin({
    handler: (_req, res) => {
      release.push(() => res.end('slow'))
    },
  })
  const [fast] = await namedOrigins(t, 1)
  t.after(() => {
    for (const r of release) r()
    return slow.close()
  })
  const proxy = await startProxy(t, {
    routes: [{ name: 'app', balancer: 'round-robin', upstreams: [slow.url] }],
  })
  const api = proxy.app.reverseProxy
  const agent = client(t)
  assert.deepEqual(api.routes(), ['app'])

  const pending = [get(agent, `${proxy.url}/1`), get(agent, `${proxy.url}/2`)]
  for (let i = 0; i < 200 && slow.hits < 2; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(api.upstreams('app')[0]!.inFlight, 2)

  const added = api.addUpstream('app', { url: fast!.url, weight: 2 })
  assert.equal(added.state, 'healthy')
  assert.throws(() => api.addUpstream('app', fast!.url), /already has upstream/)
  assert.throws(() => api.addUpstream('app', 'ftp://x'), /upstream: must be an http\(s\) URL/)
  assert.throws(() => api.upstreams('nope'), /no route named 'nope'/)

  let drained: boolean | null = null
  const draining = api.drainUpstream('app', slow.url).then((d) => {
    drained = d
  })
  assert.equal(api.upstreams('app')[0]!.state, 'draining')
  // While it drains, new requests all go to the other upstream.
  assert.deepEqual([...(await tally(agent, `${proxy.url}/x`, 6))], [['origin-0', 6]])
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(drained, null, 'draining waits for the in-flight requests')
  for (const r of release) r()
  const answers = await Promise.all(pending)
  assert.deepEqual(
    answers.map((a) => a.text),
    ['slow', 'slow'],
    'in-flight requests complete normally',
  )
  await draining
  assert.equal(drained, true)

  api.undrainUpstream('app', slow.url)
  assert.equal(api.upstreams('app')[0]!.state, 'healthy')
  assert.equal(await api.removeUpstream('app', slow.url), true)
  assert.deepEqual(
    api.upstreams('app').map((u) => u.url),
    [fast!.url],
  )
  assert.equal((await get(agent, `${proxy.url}/y`)).text, 'origin-0')
  const timedOut = await startOrigin({ handler: () => {} })
  t.after(() => timedOut.close())
  api.addUpstream('app', timedOut.url)
  const hanging = [get(agent, `${proxy.url}/z`), get(agent, `${proxy.url}/z`)]
  for (let i = 0; i < 200 && timedOut.hits < 1; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(
    await api.removeUpstream('app', timedOut.url, { timeoutMs: 100 }),
    false,
    'gives up after timeoutMs',
  )
  const statuses = (await Promise.all(hanging)).map((r) => r.status).sort()
  assert.deepEqual(statuses, [200, 502], 'the request cut off by the forced removal gets a clear 502')
})
