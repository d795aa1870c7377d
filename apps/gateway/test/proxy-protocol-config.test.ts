import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, writeConfig } from './helpers/cli.js'

// `proxyProtocol` is checked like every key: --check names a bad source or timeout, and prints the
// resolved setting (timeout in ms, default 5 s) for a good one.

test('--check validates and resolves proxyProtocol on both listeners', async (t) => {
  const bad = await writeConfig(t, {
    forward: { proxyProtocol: { from: [] } },
    reverse: {
      proxyProtocol: { from: ['127.0.0.1', 'lb.example'], timeout: 'soon' },
      routes: [{ upstreams: ['http://127.0.0.1:9001'] }],
    },
  })
  const r = await runCli(['--config', bad, '--check'])
  assert.equal(r.code, 1)
  for (const expected of [
    'forward.proxyProtocol.from: must list at least 1 item',
    'reverse.proxyProtocol.from[1]: must be an IP address or a CIDR',
    'reverse.proxyProtocol.timeout: must be a duration',
  ])
    assert.ok(r.stderr.includes(expected), `expected "${expected}" in:\n${r.stderr}`)

  const good = await writeConfig(t, {
    forward: { proxyProtocol: { from: ['127.0.0.2'], timeout: '250ms' } },
    reverse: {
      proxyProtocol: { from: ['127.0.0.0/8', '::1'] },
      routes: [{ upstreams: ['http://127.0.0.1:9001'] }],
    },
  })
  const ok = await runCli(['--config', good, '--check'])
  assert.equal(ok.code, 0, ok.stderr)
  assert.match(ok.stdout, /"proxyProtocol": \{\s*"from": \[\s*"127\.0\.0\.2"\s*\],\s*"timeoutMs": 250\s*\}/)
  assert.match(
    ok.stdout,
    /"proxyProtocol": \{\s*"from": \[\s*"127\.0\.0\.0\/8",\s*"::1"\s*\],\s*"timeoutMs": 5000\s*\}/,
  )
})
