// Issue 23 item 11: `clients: { allow, deny }` (addresses, CIDRs, address classes) on `forward`, on
// `reverse` and on each reverse route. A denied client gets 403, logged with the rule that refused it,
// and reaches no origin. Clients are told apart by binding their sockets to 127.0.0.2 and 127.0.0.3.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { Agent, request } from 'undici'
import { curl, startCli, writeConfig } from './helpers/cli.js'

function clientFrom(t: import('node:test').TestContext, localAddress: string): Agent {
  const agent = new Agent({ localAddress })
  t.after(() => agent.close())
  return agent
}

async function status(agent: Agent, url: string) {
  const res = await request(url, { dispatcher: agent })
  await res.body.text()
  return res.statusCode
}

test('reverse: the listener’s clients apply to every route, a route’s own after them', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      clients: { deny: ['127.0.0.3'] },
      routes: [
        { name: 'open', prefix: '/', upstreams: [origin.url] },
        {
          name: 'staff',
          prefix: '/staff',
          upstreams: [origin.url],
          clients: { allow: ['127.0.0.1/32', '::1'] },
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const base = gw.urls.reverse!
  const [one, two, three] = ['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((a) => clientFrom(t, a))
  assert.equal(await status(three!, `${base}/page`), 403)
  assert.equal(await status(three!, `${base}/staff/x`), 403)
  assert.equal(await status(two!, `${base}/staff/x`), 403)
  assert.equal(origin.hits, 0)
  assert.equal(await status(two!, `${base}/page`), 200)
  assert.equal(await status(one!, `${base}/staff/x`), 200)
  assert.equal(origin.hits, 2)
  // Log lines reach stdout up to 100 ms late (buffered, in order): the 200 after the denials says
  // every denial line is in.
  await gw.waitForLog((l) => l.msg === 'access' && l.status === 200 && l.target === '/staff/x')
  const denials = gw.logs.filter((l) => l.msg === 'access' && l.status === 403).map((l) => l.rule)
  assert.deepEqual(denials.sort(), ['reverse.clients', 'reverse.clients', 'staff:clients'])
  assert.equal(await gw.stop(), 0)
})

test('forward: an address class in allow, an address in deny', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    forward: {
      listen: '127.0.0.1:0',
      allow: ['127.0.0.1'],
      clients: { allow: ['loopback'], deny: ['127.0.0.2'] },
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward'])
  // curl binds its socket to the client address it is given (--interface).
  const viaProxy = async (from: string) => {
    const r = await curl([
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--interface',
      from,
      '-x',
      gw.urls.forward!,
      `${origin.url}/x`,
    ])
    return Number(r.stdout)
  }
  assert.equal(await viaProxy('127.0.0.2'), 403)
  assert.equal(origin.hits, 0)
  assert.equal(await viaProxy('127.0.0.3'), 200)
  assert.equal(origin.hits, 1)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.status === 403)
  assert.equal(line.rule, 'forward.clients')
  assert.equal(await gw.stop(), 0)
})
