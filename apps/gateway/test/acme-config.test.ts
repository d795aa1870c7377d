import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, writeConfig } from './helpers/cli.js'
import { createTestCa } from './helpers/tls.js'

// reverse.tls.acme is checked by --check: it needs the redirect listener (HTTP-01 is answered there) and
// names to order (given, or the route hosts), and resolves its defaults; `certs` may be left out with it only.

test('--check: reverse.tls.acme needs redirectHttp and domains, defaults domains to the route hosts, makes certs optional, and needs redis with workers', async (t) => {
  const ca = await createTestCa(t)
  const cert = await ca.issue(['fallback.test'])
  const tls = (acme: object) => ({ certs: [{ cert: cert.certFile, key: cert.keyFile }], acme })
  const bad = await writeConfig(t, {
    reverse: {
      tls: tls({ directory: 'https://127.0.0.1:14000/dir', email: 'ops@example.test' }),
      routes: [{ upstreams: ['http://127.0.0.1:9001'] }],
    },
  })
  const r = await runCli(['--config', bad, '--check'])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /reverse\.redirectHttp: is required by reverse\.tls\.acme/)
  assert.match(r.stderr, /reverse\.tls\.acme\.domains: is required when no route has a host/)

  const noDirectory = await writeConfig(t, {
    reverse: { tls: tls({ email: 'ops@example.test' }), routes: [{ upstreams: ['http://127.0.0.1:9001'] }] },
  })
  assert.match(
    (await runCli(['--config', noDirectory, '--check'])).stderr,
    /reverse\.tls\.acme\.directory: is required/,
  )

  // Without acme a TLS listener still needs certificates; with it they may be left out (a first boot).
  const noCerts = await writeConfig(t, {
    reverse: { tls: {}, routes: [{ upstreams: ['http://127.0.0.1:9001'] }] },
  })
  assert.match(
    (await runCli(['--config', noCerts, '--check'])).stderr,
    /reverse\.tls\.certs: is required \(unless reverse\.tls\.acme obtains the certificate\)/,
  )
  const acmeOnly = await writeConfig(t, {
    reverse: {
      redirectHttp: '127.0.0.1:0',
      tls: { acme: { directory: 'https://127.0.0.1:14000/dir', email: 'ops@example.test' } },
      routes: [{ host: 'a.example.test', upstreams: ['http://127.0.0.1:9001'] }],
    },
  })
  const acmeOnlyRun = await runCli(['--config', acmeOnly, '--check'])
  assert.equal(acmeOnlyRun.code, 0, acmeOnlyRun.stderr)

  // Workers each run the ACME client: without Redis they would order apart and miss each other's challenges.
  const workers = await writeConfig(t, {
    workers: 2,
    reverse: {
      redirectHttp: '127.0.0.1:0',
      tls: { acme: { directory: 'https://127.0.0.1:14000/dir', email: 'ops@example.test' } },
      routes: [{ host: 'a.example.test', upstreams: ['http://127.0.0.1:9001'] }],
    },
  })
  assert.match(
    (await runCli(['--config', workers, '--check'])).stderr,
    /reverse\.tls\.acme: with workers \(2\) needs redis/,
  )

  const good = await writeConfig(t, {
    reverse: {
      redirectHttp: '127.0.0.1:0',
      tls: tls({ directory: 'https://127.0.0.1:14000/dir', email: 'ops@example.test' }),
      routes: [
        { host: 'A.example.test', upstreams: ['http://127.0.0.1:9001'] },
        { host: 'b.example.test', prefix: '/b', upstreams: ['http://127.0.0.1:9001'] },
      ],
    },
  })
  const ok = await runCli(['--config', good, '--check'])
  assert.equal(ok.code, 0, ok.stderr)
  const resolved = JSON.parse(ok.stdout.slice(ok.stdout.indexOf('{'))) as {
    reverse: { tls: { acme: { domains: string[]; storage: string; renewBeforeMs: number } } }
  }
  assert.deepEqual(resolved.reverse.tls.acme.domains, ['a.example.test', 'b.example.test'])
  assert.equal(resolved.reverse.tls.acme.storage, 'acme')
  assert.equal(resolved.reverse.tls.acme.renewBeforeMs, 30 * 86_400_000)
})
