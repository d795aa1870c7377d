import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'
import { createTestCa, presentedCert } from './helpers/tls.js'

test('the reverse listener presents the certificate whose names match the SNI, the first by default, with its chain', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const ca = await createTestCa(t)
  const a = await ca.issue(['a.test'])
  const wild = await ca.issue(['*.wild.test'])
  const chained = await ca.issue(['c.test'], { intermediate: true })
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      tls: {
        certs: [a, wild, chained].map((c) => ({ cert: c.certFile, key: c.keyFile })),
      },
      routes: [{ prefix: '/', upstreams: [origin.url] }],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  assert.match(gw.urls.reverse!, /^https:\/\//)
  const port = Number(new URL(gw.urls.reverse!).port)

  const seen = async (servername?: string) =>
    (await presentedCert(port, servername === undefined ? {} : { servername })).fingerprint
  assert.equal(await seen('a.test'), a.fingerprint)
  assert.equal(await seen('A.Test'), a.fingerprint, 'names compare without case')
  assert.equal(await seen('x.wild.test'), wild.fingerprint)
  assert.equal(await seen('c.test'), chained.fingerprint)
  // A wildcard covers one label only; a name nobody serves and no SNI at all get the first certificate.
  assert.equal(await seen('deep.x.wild.test'), a.fingerprint)
  assert.equal(await seen('other.test'), a.fingerprint)
  assert.equal(await seen(), a.fingerprint)

  // Real clients verify against the root alone: the intermediate comes from the cert file.
  for (const name of ['a.test', 'x.wild.test', 'c.test']) {
    const r = await curl([
      '--cacert',
      ca.certFile,
      '--resolve',
      `${name}:${port}:127.0.0.1`,
      `https://${name}:${port}/hello`,
    ])
    assert.equal(r.code, 0, `${name}: ${r.stderr}`)
    assert.equal(JSON.parse(r.stdout).url, '/hello')
  }
  assert.equal(await gw.stop(), 0)
})
