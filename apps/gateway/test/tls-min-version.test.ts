import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startCli, writeConfig } from './helpers/cli.js'
import { createTestCa, presentedCert } from './helpers/tls.js'

test('minVersion: TLS 1.1 is refused by default, TLS 1.2 too when the floor is TLSv1.3', async (t) => {
  const ca = await createTestCa(t)
  const cert = await ca.issue(['floor.test'])
  for (const [minVersion, refused, accepted] of [
    [undefined, '-tls1_1', '-tls1_2'],
    ['TLSv1.3', '-tls1_2', '-tls1_3'],
  ] as const) {
    const file = await writeConfig(t, {
      reverse: {
        listen: '127.0.0.1:0',
        tls: { certs: [{ cert: cert.certFile, key: cert.keyFile }], ...(minVersion ? { minVersion } : {}) },
        routes: [{ prefix: '/', upstreams: ['http://127.0.0.1:9'] }],
      },
      admin: { listen: '127.0.0.1:0' },
    })
    const gw = await startCli(t, ['--config', file], ['reverse'])
    const port = Number(new URL(gw.urls.reverse!).port)
    // @SECLEVEL=0 lets the client offer TLS 1.1 at all: the refusal must be the server's.
    const no = await presentedCert(port, {
      servername: 'floor.test',
      args: [refused, '-cipher', 'DEFAULT:@SECLEVEL=0'],
    })
    assert.equal(no.fingerprint, null, `${refused} was accepted:\n${no.output}`)
    const yes = await presentedCert(port, { servername: 'floor.test', args: [accepted] })
    assert.equal(yes.fingerprint, cert.fingerprint, yes.output)
    assert.equal(await gw.stop(), 0)
  }
})
