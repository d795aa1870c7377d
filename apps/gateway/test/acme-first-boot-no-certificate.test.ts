import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import {
  acmeReverse,
  certificateIssued,
  curlAcmeTest,
  redirectPortOf,
  startChallengeRelay,
} from './helpers/acme.js'
import { curl, startCli, writeConfig } from './helpers/cli.js'
import { startPebble } from './helpers/pebble.js'
import { createTestCa, handshake } from './helpers/tls.js'

// A first boot with `reverse.tls.acme` and no `certs` at all (as Caddy and Traefik users write it): the
// gateway starts, answers the CA's HTTP-01 challenge on the plain listener, refuses TLS handshakes while it
// has no certificate (no certificate offered, with or without SNI), and serves the issued certificate as soon
// as the order completes, without a restart. Pebble's HTTP-01 check goes through a relay that holds it until
// the handshakes have been tried, so "no certificate yet" is observed while the order is really in flight.

test('ACME first boot without certs: starts, answers the challenge, refuses TLS until the certificate arrives', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const dir = await mkdtemp(join(tmpdir(), 'proxykit-acme-first-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const ca = await createTestCa(t)

  // The relay: the CA's validation connections wait here until `release()`, then reach the gateway.
  let release!: () => void
  const released = new Promise<void>((r) => (release = r))
  let validations = 0
  let arrive!: () => void
  const arrived = new Promise<void>((r) => (arrive = r))
  let redirectPort = 0
  const relayPort = await startChallengeRelay(t, async () => {
    validations++
    arrive()
    await released
    return redirectPort
  })
  const pebble = await startPebble(t, ca, dir, relayPort)

  const file = await writeConfig(t, {
    reverse: acmeReverse(pebble, ca, { storage: join(dir, 'acme'), redirectPort: 0, upstream: origin.url }),
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const port = Number(new URL(gw.urls.reverse!).port)
  redirectPort = redirectPortOf(gw)
  assert.ok(
    gw.logs.some(
      (l) => l.msg === 'acme: no certificate yet; TLS handshakes are refused until the first order succeeds',
    ),
  )

  // The plain listener is up from the start: anything but the challenge is a redirect to https.
  const plain = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${redirectPort}/x`])
  assert.equal(plain.stdout, '301')

  // The order is in flight (the CA is trying to validate, held briefly): no certificate is offered yet.
  await arrived
  const [before, noSni] = await Promise.all([handshake(port, 'acme.test'), handshake(port)])
  const issuedMeanwhile = gw.logs.some((l) => l.msg === 'acme: certificate issued')
  release()
  assert.equal(issuedMeanwhile, false)
  assert.equal(before.fingerprint, undefined, 'a certificate was offered before the order completed')
  assert.match(before.error!, /\S/)
  assert.equal(noSni.fingerprint, undefined, 'a certificate was offered to a client without SNI')

  const issued = await certificateIssued(gw, pebble)
  assert.ok(validations >= 1)
  const after = await handshake(port, 'acme.test')
  assert.equal(after.fingerprint, issued.fingerprint)
  // Without SNI the ACME certificate is the default too.
  assert.equal((await handshake(port)).fingerprint, issued.fingerprint)
  const served = await curlAcmeTest(pebble, dir, port)
  assert.equal(served.stdout, '200', served.stderr)
  assert.equal(await gw.stop(), 0)
})
