import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTlsOrigin } from '@proxykit/core/testing'
import { curl, startProxy } from './helpers.js'

test('curl -x with -k reaches a TLS origin through a CONNECT tunnel', async (t) => {
  const origin = await startTlsOrigin()
  const proxy = await startProxy({ connectPorts: [origin.port] })
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const res = await curl(['-x', proxy.url, '-k', '-i', `${origin.url}/secure?q=1`])
  assert.equal(res.code, 0, res.stderr)
  assert.match(res.stdout, /^HTTP\/1\.1 200 Connection Established\r\n\r\n/)
  const body = res.stdout.slice(res.stdout.lastIndexOf('\r\n\r\n') + 4)
  assert.equal(JSON.parse(body).url, '/secure?q=1')
  assert.equal(origin.hits, 1)
})
