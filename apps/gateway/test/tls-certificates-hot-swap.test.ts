import assert from 'node:assert/strict'
import { once } from 'node:events'
import https from 'node:https'
import { test } from 'node:test'
import type { TLSSocket } from 'node:tls'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'
import { createTestCa, presentedCert, replaceFile } from './helpers/tls.js'

test('a certificate file replaced on disk is served to new handshakes, and an open connection keeps working', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const ca = await createTestCa(t)
  const v1 = await ca.issue(['hot.test'], { stem: 'hot' })
  const v2 = await ca.issue(['hot.test'], { stem: 'hot-next' })
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: v1.certFile, key: v1.keyFile }] },
      routes: [{ prefix: '/', upstreams: [origin.url] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const port = Number(new URL(gw.urls.reverse!).port)

  // One keep-alive connection, opened with v1, used before and after the swap.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: ca.cert, servername: 'hot.test' })
  t.after(() => agent.destroy())
  const get = async (path: string) => {
    const req = https.get({ host: '127.0.0.1', port, path, agent, servername: 'hot.test' })
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
    let body = ''
    for await (const c of res) body += c
    const socket = req.socket as TLSSocket
    return { status: res.statusCode, body, socket, cert: socket.getPeerCertificate()?.fingerprint256 }
  }
  const first = await get('/before')
  assert.equal(first.status, 200)
  assert.equal(first.cert, v1.fingerprint)

  // Both files renamed over the old ones, as certbot and secret managers do.
  await replaceFile(v1.keyFile, v2.key)
  await replaceFile(v1.certFile, v2.cert)
  const line = await gw.waitForLog((l) => l.msg === 'certificates reloaded', 30_000)
  assert.equal(line.trigger, 'file changed')
  assert.equal((await presentedCert(port, { servername: 'hot.test' })).fingerprint, v2.fingerprint)

  const after = await get('/after')
  assert.equal(after.status, 200)
  assert.equal(JSON.parse(after.body).url, '/after')
  assert.equal(after.socket, first.socket, 'the keep-alive connection was not dropped')
  assert.equal(after.cert, v1.fingerprint, 'an open connection keeps the certificate it was made with')
  // Counted once the gateway has stopped, when every buffered log line is out.
  assert.equal(await gw.stop(), 0)
  assert.equal(
    gw.logs.filter((l) => l.msg === 'certificate reload refused; the certificates in use are kept').length,
    0,
  )
})
