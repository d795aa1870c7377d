import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, startCli, writeConfig } from './helpers/cli.js'

const BROKEN = `
forward:
  listen: nowhere
  conectPorts: [443]
reverse:
  routes:
    - prefix: /ok
      upstreams: [http://127.0.0.1:9001]
    - prefix: /api
      upstreams: ["ftp://127.0.0.1:21", { url: http://127.0.0.1:9002, wieght: 2 }]
      balancer: fancy
      timeout: 5 sec
cache: { maxSize: 12 parsecs }
`

test('--check on a broken file names every bad path and rule, and exits 1', async (t) => {
  const file = await writeConfig(t, BROKEN)
  const r = await runCli(['--config', file, '--check'])
  assert.equal(r.code, 1)
  assert.equal(r.stdout, '')
  for (const expected of [
    'reverse.routes[1].upstreams[0]: must be an http(s) URL',
    'reverse.routes[1].upstreams[1].wieght: is not a known key (did you mean "weight"?)',
    'reverse.routes[1].balancer: must be one of "round-robin"',
    'reverse.routes[1].timeout: must be a duration',
    'forward.conectPorts: is not a known key (did you mean "connectPorts"?)',
    'forward.listen: must be host:port',
    'cache.maxSize: must be a size',
  ]) {
    assert.ok(r.stderr.includes(expected), `expected "${expected}" in:\n${r.stderr}`)
  }
  assert.doesNotMatch(r.stderr, /routes\[0\]/, 'the valid route is not reported')
})

test('a broken config exits 1 without listening', async (t) => {
  const file = await writeConfig(t, 'reverse:\n  listen: 127.0.0.1:0\n  routes: []\n')
  const r = await runCli(['--config', file])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /reverse\.routes: must list at least 1 item\n/)
  assert.doesNotMatch(r.stdout, /listening/)
})

test('invalid YAML and a missing file are reported, exit 1', async (t) => {
  const yaml = await writeConfig(t, 'reverse: [unclosed\n')
  const bad = await runCli(['--config', yaml, '--check'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /not valid YAML/)
  const missing = await runCli(['--config', `${yaml}.nope`, '--check'])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /cannot read .*ENOENT/)
})

test('a listener that cannot bind makes the CLI exit 1', async (t) => {
  const first = await writeConfig(t, { admin: { listen: '127.0.0.1:0' } }, 'a.json')
  const running = await startCli(t, ['--config', first], ['admin'])
  const taken = new URL(running.urls.admin!).port
  const second = await writeConfig(t, { admin: { listen: `127.0.0.1:${taken}` } }, 'b.json')
  const r = await runCli(['--config', second])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /cannot start: .*EADDRINUSE/)
  assert.equal(await running.stop(), 0)
})
