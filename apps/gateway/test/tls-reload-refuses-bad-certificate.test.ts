import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'
import { createTestCa, presentedCert, replaceFile } from './helpers/tls.js'

test('a reload whose certificate does not load is refused and logged, and the certificate in use stays', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const ca = await createTestCa(t)
  const v1 = await ca.issue(['keep.test'], { stem: 'keep' })
  const v2 = await ca.issue(['keep.test'], { stem: 'next' })
  const token = 'reload-token-123'
  const config = (cert: { certFile: string; keyFile: string }) => ({
    reverse: {
      listen: '127.0.0.1:0',
      tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }] },
      routes: [{ prefix: '/', upstreams: [origin.url] }],
    },
    admin: { listen: '127.0.0.1:0', token },
  })
  const file = await writeConfig(t, config(v1))
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const port = Number(new URL(gw.urls.reverse!).port)
  const reload = async () => {
    const r = await curl(['-X', 'POST', '-H', `authorization: Bearer ${token}`, `${gw.urls.admin}/reload`])
    return JSON.parse(r.stdout) as { ok: boolean; error?: string; applied: string[] }
  }

  // A config pointing at a certificate with another's key: refused, naming the key file.
  await writeFile(file, JSON.stringify(config({ certFile: v2.certFile, keyFile: v1.keyFile })))
  const refused = await reload()
  assert.equal(refused.ok, false)
  assert.match(refused.error!, new RegExp(`reverse\\.tls\\.certs\\[0\\]\\.key: ${v1.keyFile} does not match`))
  assert.equal((await presentedCert(port, { servername: 'keep.test' })).fingerprint, v1.fingerprint)

  // A certificate file overwritten with garbage: the watcher's reload is refused too.
  await writeFile(file, JSON.stringify(config(v1)))
  await replaceFile(v1.certFile, 'garbage\n')
  const line = await gw.waitForLog(
    (l) => l.msg === 'certificate reload refused; the certificates in use are kept',
    30_000,
  )
  assert.match(String(line.reason), /is not a PEM certificate/)
  assert.equal((await presentedCert(port, { servername: 'keep.test' })).fingerprint, v1.fingerprint)
  const r = await curl([
    '--cacert',
    ca.certFile,
    '--resolve',
    `keep.test:${port}:127.0.0.1`,
    `https://keep.test:${port}/still`,
  ])
  assert.equal(r.code, 0, r.stderr)

  // A good config and file: the reload applies, and the new certificate is served.
  await replaceFile(v1.certFile, v1.cert)
  await writeFile(file, JSON.stringify(config(v2)))
  const applied = await reload()
  assert.equal(applied.ok, true, applied.error)
  assert.ok(applied.applied.includes('reverse.tls'), JSON.stringify(applied))
  assert.equal((await presentedCert(port, { servername: 'keep.test' })).fingerprint, v2.fingerprint)
  assert.equal(await gw.stop(), 0)
})
