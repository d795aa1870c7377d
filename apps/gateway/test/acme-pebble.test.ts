import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { acmeReverse, certificateIssued, curlAcmeTest } from './helpers/acme.js'
import { startCli, writeConfig } from './helpers/cli.js'
import { freePort, startPebble } from './helpers/pebble.js'
import { createTestCa } from './helpers/tls.js'

// reverse.tls.acme against Pebble (the ACME test CA) on loopback, its DNS pointing every name at
// 127.0.0.1 and its HTTP-01 checks at the gateway's redirect listener: a certificate is issued and
// served, renewed when less than renewBefore is left, and an order that fails (the name now points
// where nothing answers) is logged with the CA's reason while the certificate in use keeps serving.

test('ACME with Pebble: issue, serve, renew, and a failed order that keeps the certificate', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-acme-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const ca = await createTestCa(t)
  const bootstrap = await ca.issue(['bootstrap.test'])
  const redirectPort = await freePort()
  const pebble = await startPebble(t, ca, dir, redirectPort)

  const gateway = async (renewBefore: string) => {
    const file = await writeConfig(t, {
      reverse: acmeReverse(pebble, ca, {
        certs: [{ cert: bootstrap.certFile, key: bootstrap.keyFile }],
        storage: join(dir, 'acme'),
        renewBefore,
        redirectPort,
        upstream: origin.url,
      }),
      admin: { listen: '127.0.0.1:0' },
    })
    return startCli(t, ['--config', file], ['reverse', 'admin'])
  }
  const served = async (port: number) => {
    const r = await curlAcmeTest(pebble, dir, port)
    return r.code === 0 ? Number(r.stdout) : r.stderr
  }
  const issued = (gw: Awaited<ReturnType<typeof gateway>>) => certificateIssued(gw, pebble)

  // Issue: no certificate yet, so one is ordered at start and served for acme.test (Pebble's root
  // verifies it; the bootstrap certificate would not).
  const first = await gateway('30d')
  const one = await issued(first)
  assert.deepEqual(one.domains, ['acme.test'])
  assert.equal(await served(Number(new URL(first.urls.reverse!).port)), 200)
  assert.equal(await first.stop(), 0)

  // Renew: with more renewBefore than the certificate's whole validity, the next start orders again.
  const second = await gateway('36500d')
  const two = await issued(second)
  assert.notEqual(two.fingerprint, one.fingerprint)
  assert.equal(await served(Number(new URL(second.urls.reverse!).port)), 200)
  assert.equal(await second.stop(), 0)

  // Fail: the CA can no longer reach the challenge; the reason is logged, the certificate stays.
  await pebble.setA('acme.test', '127.0.0.2')
  const third = await gateway('36500d')
  const failed = await third.waitForLog((l) => String(l.msg).startsWith('acme: order failed'), 240_000)
  assert.match(String(failed.err), /\S/)
  assert.equal(failed.reason, 'expires within renewBefore')
  assert.equal(await served(Number(new URL(third.urls.reverse!).port)), 200)
  assert.ok(!third.logs.some((l) => l.msg === 'acme: certificate issued'))
  assert.equal(await third.stop(), 0)
})
