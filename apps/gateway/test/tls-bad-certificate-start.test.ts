import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { runCli, writeConfig } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

test('an unreadable certificate, a file that is not PEM or a key that does not match stops the start and --check, naming the file', async (t) => {
  const ca = await createTestCa(t)
  const good = await ca.issue(['good.test'])
  const other = await ca.issue(['other.test'])
  const garbage = join(ca.dir, 'garbage.pem')
  await writeFile(garbage, 'not a certificate\n')
  const missing = join(ca.dir, 'missing.pem')
  const cases: Array<{ certs: Array<{ cert: string; key: string }>; says: RegExp }> = [
    {
      certs: [{ cert: missing, key: good.keyFile }],
      says: new RegExp(`reverse\\.tls\\.certs\\[0\\]\\.cert: cannot read ${missing}: ENOENT`),
    },
    {
      certs: [
        { cert: good.certFile, key: good.keyFile },
        { cert: garbage, key: good.keyFile },
      ],
      says: new RegExp(`reverse\\.tls\\.certs\\[1\\]\\.cert: ${garbage} is not a PEM certificate`),
    },
    {
      certs: [{ cert: good.certFile, key: other.keyFile }],
      says: new RegExp(
        `reverse\\.tls\\.certs\\[0\\]\\.key: ${other.keyFile} does not match the certificate ${good.certFile}`,
      ),
    },
  ]
  for (const c of cases) {
    const file = await writeConfig(t, {
      reverse: {
        listen: '127.0.0.1:0',
        tls: { certs: c.certs },
        routes: [{ prefix: '/', upstreams: ['http://127.0.0.1:9'] }],
      },
      admin: { listen: '127.0.0.1:0' },
    })
    const check = await runCli(['--config', file, '--check'])
    assert.equal(check.code, 1, check.stdout)
    assert.match(check.stderr, c.says)
    const start = await runCli(['--config', file])
    assert.equal(start.code, 1, start.stdout)
    assert.match(start.stderr, c.says)
    assert.doesNotMatch(start.stdout, /"event":"listening"/)
  }
})
