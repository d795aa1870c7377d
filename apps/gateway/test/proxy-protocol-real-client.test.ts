import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'
import { startHaproxy } from './helpers/haproxy.js'

// Behind an L4 balancer every connection comes from the balancer: with proxyProtocol the client address
// HAProxy sends (v2 with send-proxy-v2, v1 with send-proxy) is the one rules, rate limits, the access
// log and X-Forwarded-For use. Clients are told apart by the loopback address curl binds to.

test('HAProxy send-proxy-v2 and send-proxy: the real client address in rules, rate limits, logs and X-Forwarded-For', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    forward: {
      listen: '127.0.0.1:0',
      mode: 'transparent',
      allow: ['127.0.0.1'],
      allowPrivate: true,
      proxyProtocol: { from: ['127.0.0.1'] },
    },
    reverse: {
      listen: '127.0.0.1:0',
      proxyProtocol: { from: ['127.0.0.1/32'] },
      clients: { deny: ['127.0.0.66'] },
      routes: [
        { prefix: '/', upstreams: [origin.url] },
        { prefix: '/limited', upstreams: [origin.url], rateLimit: { max: 1, timeWindow: '1m' } },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward', 'reverse', 'admin'])
  const reversePort = Number(new URL(gw.urls.reverse!).port)
  const forwardPort = Number(new URL(gw.urls.forward!).port)
  const [v2, v1, fwd] = await startHaproxy(t, [
    { to: reversePort, send: 'send-proxy-v2' },
    { to: reversePort, send: 'send-proxy' },
    { to: forwardPort, send: 'send-proxy-v2' },
  ])

  const get = async (from: string, url: string, extra: string[] = []) => {
    const r = await curl(['--interface', from, '-w', '\n%{http_code}', ...extra, url])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.split('\n')
    return { status: Number(lines.pop()), body: lines.join('\n') }
  }

  // X-Forwarded-For carries the address the header gave, v2 and v1 alike.
  for (const [port, client] of [
    [v2, '127.0.0.5'],
    [v1, '127.0.0.6'],
  ] as const) {
    const r = await get(client, `http://127.0.0.1:${port}/who`)
    assert.equal(r.status, 200)
    assert.equal(JSON.parse(r.body).headers['x-forwarded-for'], client)
    const line = await gw.waitForLog((l) => l.msg === 'access' && l.remote === client)
    assert.equal(line.status, 200)
  }

  // A client rule matches the client, not the balancer it came through.
  assert.equal((await get('127.0.0.66', `http://127.0.0.1:${v2}/who`)).status, 403)
  assert.equal((await get('127.0.0.5', `http://127.0.0.1:${v2}/who`)).status, 200)

  // Rate limits count per client: a second client is not limited by the first one's use.
  assert.equal((await get('127.0.0.7', `http://127.0.0.1:${v2}/limited`)).status, 200)
  assert.equal((await get('127.0.0.7', `http://127.0.0.1:${v1}/limited`)).status, 429)
  assert.equal((await get('127.0.0.8', `http://127.0.0.1:${v2}/limited`)).status, 200)

  // The forward listener too: a transparent proxy names the real client to the origin.
  const f = await get('127.0.0.9', `${origin.url}/through-forward`, ['-x', `http://127.0.0.1:${fwd}`])
  assert.equal(f.status, 200)
  assert.equal(JSON.parse(f.body).headers['x-forwarded-for'], '127.0.0.9')
  await gw.waitForLog((l) => l.msg === 'access' && l.listener === 'forward' && l.remote === '127.0.0.9')
  assert.equal(await gw.stop(), 0)
})
