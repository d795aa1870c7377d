import assert from 'node:assert/strict'
import { test } from 'node:test'
import { installProxyContext } from '@proxykit/core'
import { startOrigin, startTcpOrigin } from '@proxykit/core/testing'
import { send, startProxy } from './helpers.js'

const CREDENTIALS = `Basic ${Buffer.from('chain user:p@ss').toString('base64')}`

test('everything can go through a parent proxy with credentials: absolute-form and CONNECT', async (t) => {
  const origin = await startOrigin()
  const tcp = await startTcpOrigin()
  const seenByParent: string[] = []
  // The parent is another proxykit instance that demands Proxy-Authorization.
  const parent = await startProxy({ connectPorts: [tcp.port] }, (app) => {
    installProxyContext(app)
    app.addHook('onRequest', async (request, reply) => {
      seenByParent.push(`${request.method} ${request.proxy.form}`)
      if (request.headers['proxy-authorization'] !== CREDENTIALS) {
        reply.code(407).header('proxy-authenticate', 'Basic realm="parent"').send('who are you?\n')
      }
    })
  })
  const child = await startProxy({
    parentProxy: `http://chain%20user:p%40ss@127.0.0.1:${parent.port}`,
    connectPorts: [tcp.port],
  })
  const wrongCredentials = await startProxy({
    parentProxy: { url: `http://127.0.0.1:${parent.port}`, username: 'chain user', password: 'wrong' },
    connectPorts: [tcp.port],
  })
  t.after(() =>
    Promise.all([
      child.app.close(),
      wrongCredentials.app.close(),
      parent.app.close(),
      origin.close(),
      tcp.close(),
    ]),
  )

  const get = await send(
    child.port,
    `GET http://127.0.0.1:${origin.port}/chained HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(get.statusCode, 200)
  assert.equal(JSON.parse(get.body.toString()).url, '/chained')
  const tunnel = await send(
    child.port,
    `CONNECT 127.0.0.1:${tcp.port} HTTP/1.1\r\nHost: 127.0.0.1:${tcp.port}\r\n\r\nthrough two`,
  )
  assert.equal(tunnel.statusCode, 200)
  assert.equal(tunnel.body.toString(), 'through two')
  assert.deepEqual(seenByParent, ['GET absolute', 'CONNECT authority'])

  const refusedGet = await send(
    wrongCredentials.port,
    `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(refusedGet.statusCode, 502)
  assert.match(refusedGet.body.toString(), /407/)
  const refusedTunnel = await send(wrongCredentials.port, `CONNECT 127.0.0.1:${tcp.port} HTTP/1.1\r\n\r\n`)
  assert.equal(refusedTunnel.statusCode, 502)
  assert.match(refusedTunnel.body.toString(), /407/)
  assert.equal(origin.hits, 1)
  assert.equal(tcp.connections, 1)
})

test('with a parent proxy, literal denied addresses are still refused here', async (t) => {
  const denied = await startOrigin({ host: '127.0.0.2' })
  const parent = await startProxy({ allow: ['loopback'] })
  const child = await startProxy({ parentProxy: `http://127.0.0.1:${parent.port}` })
  t.after(() => Promise.all([child.app.close(), parent.app.close(), denied.close()]))
  const res = await send(
    child.port,
    `GET http://2130706434:${denied.port}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  )
  assert.equal(res.statusCode, 403)
  assert.equal(denied.hits, 0)
})
