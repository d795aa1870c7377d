import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// Issue 26 item 2: each worker runs the config without `admin` (the primary serves it) and compared the
// file's admin section with its own on every reload, logging "admin: listen address or token changed"
// with the file unchanged.
test('workers: 2, reloading an unchanged file: no worker and no answer says a restart is needed', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(
    t,
    {
      workers: 2,
      reverse: { listen: '127.0.0.1:0', routes: [{ name: 'web', prefix: '/', upstreams: [origin.url] }] },
      admin: { listen: '127.0.0.1:0', token: 'workers-reload-token' },
    },
    'gateway.json',
  )
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'], 60_000)
  const workerPids = () => gw.logs.filter((l) => l.event === 'worker-ready').map((l) => l.pid as number)
  await gw.waitForLog(() => workerPids().length >= 2, 60_000)
  t.after(() => {
    for (const pid of workerPids()) if (alive(pid)) process.kill(pid, 'SIGKILL')
  })
  const workerReloads = () =>
    gw.logs.filter((l) => l.event === 'reload' && l.pid !== gw.child.pid && 'ok' in l)

  // SIGHUP to the primary: it tells each worker to re-read the file.
  gw.child.kill('SIGHUP')
  await gw.waitForLog(() => workerReloads().length >= 2, 30_000)
  // Through the admin API as well.
  const res = await fetch(`${gw.urls.admin}/reload`, {
    method: 'POST',
    headers: { authorization: 'Bearer workers-reload-token' },
  })
  const result = (await res.json()) as { ok: boolean; workers: number; restartNeeded: string[] }
  assert.equal(res.status, 200, JSON.stringify(result))
  assert.equal(result.workers, 2)
  assert.deepEqual(result.restartNeeded, [])
  await gw.waitForLog(() => workerReloads().length >= 4, 30_000)

  const restartLines = gw.logs.filter(
    (l) => Array.isArray(l.restartNeeded) && (l.restartNeeded as unknown[]).length > 0,
  )
  assert.deepEqual(restartLines, [], 'nothing changed, so nothing needs a restart')
  for (const line of workerReloads()) assert.deepEqual(line.applied, [], JSON.stringify(line))
  assert.equal(await gw.stop('SIGTERM'), 0)
})
