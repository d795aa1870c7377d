import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('workers: 2 share the listener, a killed worker is replaced, metrics add up, SIGTERM drains all', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    },
  })
  t.after(() => origin.close())
  const other = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('other')
    },
  })
  t.after(() => other.close())
  const config = (upstream: string) => ({
    workers: 2,
    reverse: { listen: '127.0.0.1:0', routes: [{ name: 'web', prefix: '/', upstreams: [upstream] }] },
    admin: { listen: '127.0.0.1:0', token: 'workers-test-token' },
  })
  const file = await writeConfig(t, config(origin.url), 'gateway.json')
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'], 60_000)
  const readyPids = () => gw.logs.filter((l) => l.event === 'worker-ready').map((l) => l.pid as number)
  await gw.waitForLog(() => readyPids().length >= 2, 60_000)
  const [first, second] = readyPids() as [number, number]
  t.after(() => {
    for (const pid of readyPids()) if (alive(pid)) process.kill(pid, 'SIGKILL')
  })

  // A new connection per request: the primary hands connections to the workers in turn.
  let sent = 0
  const get = async () => {
    const res = await request(`${gw.urls.reverse}/hello`, { reset: true })
    assert.equal(res.statusCode, 200)
    assert.equal(await res.body.text(), 'ok')
    sent++
  }
  const servedBy = () =>
    new Set(gw.logs.filter((l) => l.msg === 'access' && l.listener === 'reverse').map((l) => l.pid as number))
  for (let i = 0; i < 200 && !(servedBy().has(first) && servedBy().has(second)); i++) {
    await get()
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 50))
  }
  assert.ok(servedBy().has(first) && servedBy().has(second), `both workers answered (${[...servedBy()]})`)

  // The admin listener (in the primary) adds up every worker's counters.
  const reverseTotal = async () => {
    const text = await (await fetch(`${gw.urls.admin}/metrics`)).text()
    return text
      .split('\n')
      .filter((l) => l.startsWith('proxykit_requests_total{') && l.includes('listener="reverse"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0)
  }
  assert.equal(await reverseTotal(), sent, 'aggregated across workers')
  const live = (await (await fetch(`${gw.urls.admin}/live`)).json()) as { workers: number }
  assert.equal(live.workers, 2)

  // Kill one: the primary starts a replacement, which takes traffic.
  process.kill(first, 'SIGKILL')
  await gw.waitForLog((l) => l.event === 'worker-exit' && l.pid === first, 30_000)
  await gw.waitForLog(() => readyPids().length >= 3, 60_000)
  const replacement = readyPids()[2]!
  assert.ok(![first, second].includes(replacement))
  for (let i = 0; i < 200 && !servedBy().has(replacement); i++) {
    await get()
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 50))
  }
  assert.ok(servedBy().has(replacement), 'the replacement answers')
  const ready = await fetch(`${gw.urls.admin}/readyz`)
  assert.equal(ready.status, 200, JSON.stringify(await ready.json()))

  // A reload through the primary reaches every worker.
  await writeFile(file, JSON.stringify(config(other.url)))
  const reload = await fetch(`${gw.urls.admin}/reload`, {
    method: 'POST',
    headers: { authorization: 'Bearer workers-test-token' },
  })
  const result = (await reload.json()) as { ok: boolean; workers: number; applied: string[] }
  assert.equal(reload.status, 200, JSON.stringify(result))
  assert.equal(result.workers, 2)
  assert.deepEqual(result.applied, ['reverse'])
  for (let i = 0; i < 10; i++) {
    const res = await request(`${gw.urls.reverse}/after`, { reset: true })
    assert.equal(await res.body.text(), 'other', 'every worker took the new upstream')
  }

  assert.equal(await gw.stop('SIGTERM'), 0)
  assert.ok(!alive(second) && !alive(replacement), 'every worker exited with the primary')
})
