import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, writeConfig } from './helpers/cli.js'

// The issue's example config, verbatim: `--check` accepts it and prints the resolved form.
const ISSUE_EXAMPLE = `
forward:                                  # omit to disable
  listen: 127.0.0.1:3128
  mode: anonymous                         # anonymous | transparent
  connectPorts: [443]
  allow: ["*.example.com", "127.0.0.1"]   # destination hosts, wildcards, addresses, CIDRs
  deny: ["ads.example.com"]
  auth: { realm: proxykit, users: { alice: "$2b$10$abcdefghijklmnopqrstuuO9bX1c5yFq3LXy1qHqvFq0C7F0nMqKq" } }
  cache: true
  rateLimit: { max: 600, timeWindow: 1m }
reverse:                                  # omit to disable
  listen: 127.0.0.1:8080
  routes:
    - prefix: /api
      host: app.example.com               # optional
      upstreams:
        - http://127.0.0.1:9001
        - { url: http://127.0.0.1:9002, weight: 2 }
      balancer: round-robin               # round-robin | weighted | least-connections | p2c | consistent-hash
      hashOn: header:x-user-id            # for consistent-hash: header:NAME | cookie:NAME | ip | path
      healthCheck: { path: /healthz, interval: 5s, timeout: 1s, fall: 3, rise: 2 }
      retries: 1
      timeout: 30s
      cache: true
      deny: ["/admin"]                    # path prefixes
      rateLimit: { max: 100, timeWindow: 1m }
cache:
  store: memory                           # memory | redis
  maxSize: 256MiB
  maxEntrySize: 16MiB
redis: redis://127.0.0.1:6379             # optional: shared cache and rate limits for several instances
admin:
  listen: 127.0.0.1:9901
  token: "a-long-admin-token"             # required for mutating admin calls
log: { level: info }
`

test('--check accepts the documented example and prints the resolved configuration', async (t) => {
  const file = await writeConfig(t, ISSUE_EXAMPLE)
  const r = await runCli(['--config', file, '--check'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /is valid/)
  const resolved = JSON.parse(r.stdout)
  assert.deepEqual(resolved.forward.listen, { host: '127.0.0.1', port: 3128 })
  assert.deepEqual(resolved.forward.rateLimit, { max: 600, timeWindowMs: 60_000 })
  const route = resolved.reverse.routes[0]
  assert.equal(route.name, 'app.example.com/api')
  assert.equal(route.timeoutMs, 30_000)
  assert.deepEqual(route.upstreams, [
    { url: 'http://127.0.0.1:9001', weight: 1 },
    { url: 'http://127.0.0.1:9002', weight: 2 },
  ])
  assert.deepEqual(route.healthCheck, {
    path: '/healthz',
    intervalMs: 5000,
    timeoutMs: 1000,
    fall: 3,
    rise: 2,
  })
  assert.equal(resolved.cache.maxSize, 256 * 1024 * 1024)
  assert.equal(resolved.cache.maxEntrySize, 16 * 1024 * 1024)
  assert.equal(resolved.admin.token, '<set>', 'the token is not printed')
  assert.equal(resolved.shutdown.graceMs, 10_000, 'defaults are filled in')
})

test('--check reads JSON files too', async (t) => {
  const file = await writeConfig(
    t,
    { reverse: { listen: 8081, routes: [{ upstreams: ['https://127.0.0.1:9443'] }] } },
    'gateway.json',
  )
  const r = await runCli(['--config', file, '--check'])
  assert.equal(r.code, 0, r.stderr)
  const resolved = JSON.parse(r.stdout)
  assert.deepEqual(resolved.reverse.listen, { host: '127.0.0.1', port: 8081 })
  assert.equal(resolved.reverse.routes[0].prefix, '/')
  assert.equal(resolved.forward, null)
})

test('--help prints usage and exits 0', async () => {
  const r = await runCli(['--help'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /--config FILE/)
  assert.match(r.stdout, /--check/)
})
