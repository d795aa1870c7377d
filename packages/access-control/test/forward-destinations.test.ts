import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertErrorBody, startOrigin } from '@proxykit/core/testing'
import { forwardGet, send, startApp } from './helpers.js'

test('127.0.0.1 allowed: every spelling of 127.0.0.2 is refused and its origin receives nothing', async (t) => {
  const allowed = await startOrigin({ host: '127.0.0.1' })
  const other = await startOrigin({ host: '127.0.0.2' })
  const proxy = await startApp({ rules: [{ name: 'only-one', action: 'allow', hosts: ['127.0.0.1'] }] })
  t.after(() => Promise.all([proxy.app.close(), allowed.close(), other.close()]))

  for (const spelling of [
    '127.0.0.1',
    '2130706433',
    '0x7f000001',
    '0177.0.0.1',
    '127.1',
    '[::ffff:127.0.0.1]',
  ]) {
    const res = await send(proxy.port, forwardGet(`http://${spelling}:${allowed.port}/ok`))
    assert.equal(res.statusCode, 200, spelling)
  }
  assert.equal(allowed.hits, 6)

  const hostile = [
    '127.0.0.2',
    '2130706434',
    '0x7f000002',
    '0x7f.0.0.2',
    '0177.0.0.2',
    '0177.0.0.02',
    '127.2',
    '127.0.2',
    '[::ffff:127.0.0.2]',
    '[::ffff:7f00:2]',
    '[0:0:0:0:0:ffff:127.0.0.2]',
  ]
  for (const spelling of hostile) {
    const res = await send(proxy.port, forwardGet(`http://${spelling}:${other.port}/secret`))
    assert.equal(res.statusCode, 403, spelling)
    assertErrorBody(res.body, { statusCode: 403, code: 'PK_FORBIDDEN', message: /denied by rule "default"/ })
  }
  assert.equal(other.hits, 0)
})

test('host names: case, trailing dot and punycode are one name; DNS cannot slip past an address rule', async (t) => {
  const good = await startOrigin({ host: '127.0.0.1' })
  const internal = await startOrigin({ host: '127.0.0.2' })
  const proxy = await startApp({
    rules: [
      { name: 'no-internal', action: 'deny', destinations: ['127.0.0.2/32'] },
      { name: 'no-localhost', action: 'deny', hosts: ['localhost'] },
      { name: 'books', action: 'allow', hosts: ['bücher.test'] },
      { name: 'tests', action: 'allow', hosts: ['*.test'] },
    ],
  })
  t.after(() => Promise.all([proxy.app.close(), good.close(), internal.close()]))

  for (const spelling of ['localhost', 'LOCALHOST', 'localhost.', 'LocalHost.']) {
    const res = await send(proxy.port, forwardGet(`http://${spelling}:${good.port}/`))
    assert.equal(res.statusCode, 403, spelling)
    assert.match(res.body.toString(), /no-localhost/)
  }
  assert.equal(good.hits, 0)

  for (const spelling of ['GOOD.test', 'good.test.', 'xn--bcher-kva.test', 'XN--BCHER-KVA.TEST']) {
    const res = await send(proxy.port, forwardGet(`http://${spelling}:${good.port}/`))
    assert.equal(res.statusCode, 200, spelling)
  }
  assert.equal(good.hits, 4)

  // rebind.test is allowed by name, but resolves to 127.0.0.2: the connect-time guard refuses it.
  const res = await send(proxy.port, forwardGet(`http://rebind.test:${internal.port}/`))
  assert.equal(res.statusCode, 403)
  assert.match(res.body.toString(), /no-internal/)
  assert.equal(internal.hits, 0)
})

test('CONNECT tunnels: the authority is checked like an absolute-form target', async (t) => {
  const { startTcpOrigin } = await import('@proxykit/core/testing')
  const allowed = await startTcpOrigin(undefined, '127.0.0.1')
  const other = await startTcpOrigin(undefined, '127.0.0.2')
  const proxy = await startApp(
    {
      rules: [
        { name: 'no-metadata', action: 'deny', addressClasses: ['metadata'] },
        { name: 'tunnel', action: 'allow', forms: ['authority'], destinations: ['127.0.0.1'] },
      ],
    },
    undefined,
    { connectPorts: [allowed.port, other.port] },
  )
  t.after(() => Promise.all([proxy.app.close(), allowed.close(), other.close()]))

  const ok = await send(
    proxy.port,
    `CONNECT 127.0.0.1:${allowed.port} HTTP/1.1\r\nHost: 127.0.0.1:${allowed.port}\r\n\r\nping`,
  )
  assert.equal(ok.statusCode, 200)
  assert.equal(ok.body.toString(), 'ping')
  for (const spelling of ['127.0.0.2', '2130706434', '[::ffff:127.0.0.2]', 'rebind.test']) {
    const res = await send(
      proxy.port,
      `CONNECT ${spelling}:${other.port} HTTP/1.1\r\nHost: ${spelling}:${other.port}\r\n\r\nping`,
    )
    assert.equal(res.statusCode, 403, spelling)
  }
  assert.equal(other.connections, 0)
})

test('report-only mode: what the rules would refuse still goes through, and the decision says so', async (t) => {
  const internal = await startOrigin({ host: '127.0.0.2' })
  const decisions: unknown[] = []
  const proxy = await startApp(
    {
      mode: 'report',
      rules: [
        { name: 'no-internal', action: 'deny', destinations: ['127.0.0.2/32'] },
        { name: 'tests', action: 'allow', hosts: ['*.test'] },
      ],
    },
    (app) => {
      app.addHook('onResponse', async (request) => {
        decisions.push(request.proxy?.access)
      })
    },
  )
  t.after(() => Promise.all([proxy.app.close(), internal.close()]))
  const viaName = await send(proxy.port, forwardGet(`http://rebind.test:${internal.port}/`))
  assert.equal(viaName.statusCode, 200)
  const viaAddress = await send(proxy.port, forwardGet(`http://127.0.0.2:${internal.port}/`))
  assert.equal(viaAddress.statusCode, 200)
  assert.equal(internal.hits, 2)
  assert.deepEqual(decisions, [
    { decision: 'report', rule: 'no-internal', user: null },
    { decision: 'report', rule: 'no-internal', user: null },
  ])
})
