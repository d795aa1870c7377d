import assert from 'node:assert/strict'
import { once } from 'node:events'
import { type TestContext, test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startProxy } from './helpers.js'

/**
 * An upstream whose health endpoint answers a fixed script (true: 204, false: 503), one entry per check,
 * then stops answering checks. Each check records the upstream's state as the proxy saw it when that check
 * arrived: the result of every earlier check has been applied by then (one check per upstream at a time,
 * the next one only on a later tick), so `seen[i]` is the state after checks 0..i-1, with no timing involved.
 */
async function scripted(t: TestContext, script: boolean[], rise: number, fall: number) {
  const seen: string[] = []
  let state = () => 'unknown'
  const origin = await startOrigin({
    handler: (req, res) => {
      if (req.url !== '/healthz') return void res.end('app')
      const i = seen.length
      seen.push(state())
      if (i < script.length) res.writeHead(script[i] ? 204 : 503).end()
      else if (i === script.length) origin.server.emit('script-done')
      // Past the script: no answer, so no further result is applied (the check times out much later).
    },
  })
  t.after(() => origin.close())
  const done = once(origin.server, 'script-done')
  const proxy = await startProxy(t, {
    routes: [
      {
        name: 'app',
        upstreams: [origin.url],
        healthCheck: { path: '/healthz', intervalMs: 15, timeoutMs: 60_000, rise, fall },
      },
    ],
  })
  state = () => proxy.app.reverseProxy.upstreams('app')[0]!.state
  await done
  return seen
}

const H = 'healthy'
const U = 'unhealthy'

test('fall: 3 — one or two failed checks in a row leave an upstream in; the third takes it out', async (t) => {
  const seen = await scripted(t, [false, true, false, false, true, false, false, false], 2, 3)
  // seen[i] is the state before check i; the last entry is the state after the whole script.
  assert.deepEqual(seen, [H, H, H, H, H, H, H, H, U])
})

test('rise: 2 — one passing check does not bring an upstream back; two in a row do', async (t) => {
  const seen = await scripted(t, [false, true, false, true, false, true, true], 2, 1)
  assert.deepEqual(seen, [H, U, U, U, U, U, U, H])
})
