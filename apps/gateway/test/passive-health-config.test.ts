import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { resolveOptions } from '@proxykit/reverse-proxy'
import { reverseProxyOptions } from '../src/compose/reverse.js'
import { resolveConfig } from '../src/config/parse.js'
import { runCli, startCli, writeConfig } from './helpers/cli.js'

const upstreams = ['http://127.0.0.1:9001']

test('passiveHealth per route: defaults, settings and false reach the reverse proxy', () => {
  const { reverse } = resolveConfig({
    reverse: {
      routes: [
        { prefix: '/a', upstreams },
        { prefix: '/b', upstreams, passiveHealth: { failures: 2, ejectTime: '2m', statuses: [502, 503] } },
        { prefix: '/c', upstreams, passiveHealth: false },
      ],
    },
  })
  const [a, b, c] = resolveOptions(reverseProxyOptions(reverse!.routes)).routes
  assert.deepEqual(a!.passiveHealth, { failures: 3, ejectMs: 5_000, maxEjectMs: 60_000, statuses: [] })
  assert.deepEqual(b!.passiveHealth, {
    failures: 2,
    ejectMs: 120_000,
    maxEjectMs: 120_000,
    statuses: [502, 503],
  })
  assert.equal(c!.passiveHealth, false)
})

test('--check names a bad passiveHealth setting', async (t) => {
  const file = await writeConfig(t, {
    reverse: {
      routes: [
        { upstreams, passiveHealth: true },
        { prefix: '/b', upstreams, passiveHealth: { statuses: [700], ejectTime: 'soon', fails: 1 } },
      ],
    },
  })
  const r = await runCli(['--config', file, '--check'])
  assert.equal(r.code, 1)
  for (const expected of [
    'reverse.routes[0].passiveHealth: must be one of false',
    'reverse.routes[1].passiveHealth.statuses[0]: must be at most 599',
    'reverse.routes[1].passiveHealth.ejectTime: must be a duration',
    'reverse.routes[1].passiveHealth.fails: is not a known key',
  ])
    assert.ok(r.stderr.includes(expected), `expected "${expected}" in:\n${r.stderr}`)
})

test("the gateway passes an only upstream's 500s on instead of taking the route down with 503", async (t) => {
  const app = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(500, { 'content-length': '4' })
      res.end('oops')
    },
  })
  t.after(() => app.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [app.url] }] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const statuses: number[] = []
  for (let i = 0; i < 10; i++) statuses.push((await fetch(`${gw.urls.reverse}/x`)).status)
  assert.deepEqual(statuses, Array(10).fill(500))
})
