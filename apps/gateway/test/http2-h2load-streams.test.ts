import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

test('h2load: many concurrent HTTP/2 streams on few connections are all answered by the origin', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const ca = await createTestCa(t)
  const cert = await ca.issue(['load.test'])
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      routes: [{ prefix: '/', upstreams: [origin.url] }],
    },
    log: { access: false },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const requests = 400
  // Bounded: 400 requests over 2 connections, 50 streams each at a time.
  const { stdout } = await promisify(execFile)(
    'h2load',
    ['-n', String(requests), '-c', '2', '-m', '50', `${gw.urls.reverse}/stream`],
    { timeout: 120_000 },
  )
  assert.match(stdout, /Application protocol: h2/)
  const m =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
      stdout,
    )
  assert.ok(m, stdout)
  assert.equal(Number(m[4]), requests, stdout)
  assert.match(stdout, new RegExp(`status codes: ${requests} 2xx`))
  assert.equal(origin.hits, requests)
  assert.equal(await gw.stop(), 0)
})
