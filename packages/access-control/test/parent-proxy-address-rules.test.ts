// Address rules hold when a parent proxy connects for us: the name is resolved here and every answer checked,
// so a name allowed "pending the address check" cannot reach a denied address through the parent.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin, startTcpOrigin } from '@proxykit/core/testing'
import { forwardGet, send, startApp } from './helpers.js'

test('through a parent proxy, address rules are checked on this proxy’s resolution of the name', async (t) => {
  const good = await startOrigin({ host: '127.0.0.1' })
  const internal = await startOrigin({ host: '127.0.0.2' })
  const goodTcp = await startTcpOrigin(undefined, '127.0.0.1')
  const internalTcp = await startTcpOrigin(undefined, '127.0.0.2')
  const ports = [goodTcp.port, internalTcp.port]
  // The parent: a forward proxy with no rules of its own, counting what reaches it.
  let parentSaw = 0
  const parent = await startApp(
    { rules: [], defaultAction: 'allow' },
    (app) => {
      app.addHook('onRequest', async () => {
        parentSaw++
      })
    },
    { connectPorts: ports },
  )
  const proxy = await startApp(
    {
      rules: [
        { name: 'no-internal', action: 'deny', destinations: ['127.0.0.2/32'] },
        { name: 'loopback-one', action: 'allow', destinations: ['127.0.0.1/32'] },
      ],
      defaultAction: 'deny',
    },
    undefined,
    { parentProxy: parent.url, connectPorts: ports },
  )
  t.after(() =>
    Promise.all([
      proxy.app.close(),
      parent.app.close(),
      good.close(),
      internal.close(),
      goodTcp.close(),
      internalTcp.close(),
    ]),
  )

  const ok = await send(proxy.port, forwardGet(`http://good.test:${good.port}/via-parent`))
  assert.equal(ok.statusCode, 200, ok.body.toString())
  assert.equal(good.hits, 1)
  assert.equal(parentSaw, 1)

  // rebind.test resolves to 127.0.0.2: refused here, before the parent is asked.
  for (const target of [`rebind.test:${internal.port}`, `127.0.0.2:${internal.port}`]) {
    const res = await send(proxy.port, forwardGet(`http://${target}/`))
    assert.equal(res.statusCode, 403, target)
    assert.match(res.body.toString(), /no-internal/, target)
  }
  // A name this proxy cannot resolve cannot be checked: refused (fail closed), not passed to the parent.
  const unknown = await send(proxy.port, forwardGet(`http://nowhere.test:${good.port}/`))
  assert.equal(unknown.statusCode, 403)
  assert.match(unknown.body.toString(), /cannot be checked/)
  assert.equal(internal.hits, 0)
  assert.equal(parentSaw, 1)

  const tunnel = await send(
    proxy.port,
    `CONNECT good.test:${goodTcp.port} HTTP/1.1\r\nHost: good.test:${goodTcp.port}\r\n\r\nping`,
  )
  assert.equal(tunnel.statusCode, 200)
  assert.equal(tunnel.body.toString(), 'ping')
  for (const authority of [`rebind.test:${internalTcp.port}`, `[::ffff:127.0.0.2]:${internalTcp.port}`]) {
    const res = await send(proxy.port, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\nping`)
    assert.equal(res.statusCode, 403, authority)
  }
  assert.equal(internalTcp.connections, 0)
})
