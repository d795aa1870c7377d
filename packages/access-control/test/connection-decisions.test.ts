import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Pool } from 'undici'
import type { AccessControlOptions } from '../src/index.js'
import { startApp } from './helpers.js'

// Per-connection state (core's connection memo: the last Host, the peer) must never leak into a decision:
// every request of one keep-alive connection gets the decision its own Host, method, route and client call for.
test('one keep-alive connection: each request is decided on its own Host, method, route and X-Forwarded-For', async (t) => {
  const rules: AccessControlOptions['rules'] = [
    { name: 'no-blocked-host', action: 'deny', hosts: ['blocked.example'] },
    { name: 'no-delete', action: 'deny', methods: ['DELETE'] },
    { name: 'no-doc-clients', action: 'deny', clients: ['192.0.2.0/24'] },
    { name: 'rest', action: 'allow' },
  ]
  const sockets = new Set<unknown>()
  const { app, url } = await startApp(
    { rules },
    (f) => {
      f.addHook('onRequest', async (request) => {
        sockets.add(request.raw.socket)
      })
      f.all('/*', async (request) => request.proxy.access)
      f.get(
        '/ops',
        { config: { accessControl: { rules: [{ name: 'ops-only', action: 'deny' }] } } },
        async () => 'ops',
      )
    },
    { forward: false, trustProxy: true },
  )
  t.after(() => app.close())
  const pool = new Pool(url, { connections: 1, pipelining: 1 })
  t.after(() => pool.close())
  const ask = async (path: string, host: string, method = 'GET', headers: Record<string, string> = {}) => {
    const r = await pool.request({ path, method, headers: { host, ...headers } })
    const text = await r.body.text()
    return `${r.statusCode} ${r.statusCode === 403 ? JSON.parse(text).message : JSON.parse(text).rule}`
  }
  const steps: Array<[string, string, string, Record<string, string>, string]> = [
    ['/a', 'ok.example', 'GET', {}, '200 rest'],
    ['/a', 'ok.example', 'GET', {}, '200 rest'],
    ['/a', 'blocked.example', 'GET', {}, 'denied by rule "no-blocked-host"'],
    ['/a', 'ok.example', 'GET', {}, '200 rest'],
    ['/a', 'ok.example', 'DELETE', {}, 'denied by rule "no-delete"'],
    ['/a', 'ok.example', 'GET', {}, '200 rest'],
    ['/ops', 'ok.example', 'GET', {}, 'denied by rule "route:ops-only"'],
    ['/a', 'ok.example', 'GET', { 'x-forwarded-for': '192.0.2.9' }, 'denied by rule "no-doc-clients"'],
    ['/a', 'ok.example', 'GET', {}, '200 rest'],
    ['/a', 'BLOCKED.example.', 'GET', {}, 'denied by rule "no-blocked-host"'],
  ]
  for (const [path, host, method, headers, expected] of steps) {
    const got = await ask(path, host, method, headers)
    if (expected.startsWith('200')) assert.equal(got, expected, `${method} ${host}${path}`)
    else
      assert.match(
        got,
        new RegExp(`^403 .*${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
        `${method} ${host}${path}`,
      )
  }
  assert.equal(sockets.size, 1, 'every request came over the one connection')
})
