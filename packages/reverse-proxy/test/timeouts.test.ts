import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertErrorBody, startOrigin, startUnacceptingPort } from '@proxykit/core/testing'
import { request } from 'undici'
import { client, get, startProxy } from './helpers.js'

test('a slow upstream answers 504 after the headers timeout; a stalled body is cut short after the idle timeout', async (t) => {
  const timers = new Set<NodeJS.Timeout>()
  const slow = await startOrigin({
    handler: (req, res) => {
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-length': '100' })
        res.write('only part')
        return // never finishes
      }
      timers.add(setTimeout(() => res.end('late'), 3000))
    },
  })
  t.after(async () => {
    for (const x of timers) clearTimeout(x)
    await slow.close()
  })
  const proxy = await startProxy(t, {
    routes: [
      { name: 'app', upstreams: [slow.url], timeouts: { headers: 300, idle: 300 }, passiveHealth: false },
    ],
  })
  const agent = client(t)
  const started = performance.now()
  const r = await get(agent, `${proxy.url}/slow`)
  assert.equal(r.status, 504)
  assert.match(r.text, /did not answer within 300 ms/)
  assert.ok(performance.now() - started < 2500)
  assert.equal(slow.hits, 1, 'a timed-out request is not retried: the upstream may be working on it')

  const stalled = await request(`${proxy.url}/stall`, { dispatcher: agent })
  assert.equal(stalled.statusCode, 200)
  await assert.rejects(stalled.body.text(), 'the client sees the body end early, not a hang')
})

test('connect refused answers 502 with a clear body', async (t) => {
  const gone = await startOrigin()
  const url = gone.url
  await gone.close()
  const proxy = await startProxy(t, {
    routes: [{ name: 'app', upstreams: [url], timeouts: { connect: 500 } }],
  })
  const r = await get(client(t), `${proxy.url}/`)
  assert.equal(r.status, 502)
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8')
  assertErrorBody(r.text, {
    statusCode: 502,
    code: 'PK_BAD_GATEWAY',
    message: 'Bad gateway: the upstream refused the connection',
  })
})

test('an upstream that never takes the connection answers 504 after the connect timeout; a GET moves on to the next upstream', async (t) => {
  const hang = await startUnacceptingPort()
  const good = await startOrigin()
  t.after(async () => {
    await hang.close()
    await good.close()
  })
  const hangUrl = `http://127.0.0.1:${hang.port}`
  const alone = await startProxy(t, {
    routes: [{ name: 'app', upstreams: [hangUrl], timeouts: { connect: 300 }, passiveHealth: false }],
  })
  const started = performance.now()
  const r = await get(client(t), `${alone.url}/`)
  assert.equal(r.status, 504)
  assert.match(r.text, /no connection to the upstream within 300 ms/)
  assert.ok(performance.now() - started < 2500, 'answered after the connect timeout, not the default 5 s')

  const pair = await startProxy(t, {
    routes: [
      {
        name: 'app',
        upstreams: [hangUrl, good.url],
        balancer: 'round-robin',
        timeouts: { connect: 300 },
        passiveHealth: false,
      },
    ],
  })
  const agent = client(t)
  for (let i = 0; i < 4; i++) {
    const ok = await get(agent, `${pair.url}/item`)
    assert.equal(ok.status, 200, 'nothing reached the hanging upstream, so the GET is retried on the other')
  }
  assert.equal(good.hits, 4)
})
