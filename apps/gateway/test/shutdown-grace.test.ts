import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('SIGTERM during a slow response lets it finish, refuses new connections, and exits 0', async (t) => {
  let release: () => void = () => {}
  const arrived = new Promise<void>((resolve) => {
    release = resolve
  })
  const origin = await startOrigin({
    handler: async (_req, res) => {
      release()
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('slow ')
      await new Promise((r) => setTimeout(r, 1500))
      res.end('but complete')
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
    shutdown: { grace: '20s' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const pending = fetch(`${gw.urls.reverse}/slow`).then(async (r) => ({
    status: r.status,
    body: await r.text(),
  }))
  await arrived
  gw.child.kill('SIGTERM')
  await gw.waitForLog((l) => l.msg === 'shutting down')
  await assert.rejects(fetch(`${gw.urls.reverse}/new`), 'a new connection is refused while draining')
  const readyz = await fetch(`${gw.urls.admin}/readyz`)
  assert.equal(readyz.status, 503, 'not ready while draining')
  assert.equal(((await readyz.json()) as { checks: { accepting: boolean } }).checks.accepting, false)
  const done = await pending
  assert.equal(done.status, 200)
  assert.equal(done.body, 'slow but complete')
  assert.equal(await gw.exited, 0)
  assert.ok(gw.logs.some((l) => l.msg === 'gateway stopped'))
})

test('after the grace period, what is still running is cut and the gateway still exits 0', async (t) => {
  const origin = await startOrigin({
    handler: (_req, res) => {
      res.writeHead(200)
      res.write('never ends')
    },
  })
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ upstreams: [origin.url] }] },
    admin: { listen: '127.0.0.1:0' },
    shutdown: { grace: '500ms' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const res = await fetch(`${gw.urls.reverse}/forever`)
  assert.equal(res.status, 200)
  const body = res.text().then(
    () => 'complete',
    () => 'cut',
  )
  const started = Date.now()
  gw.child.kill('SIGTERM')
  assert.equal(await gw.exited, 0)
  assert.equal(await body, 'cut', 'the response was cut short')
  assert.ok(Date.now() - started < 60_000, 'the shutdown does not wait for a response that never ends')
  assert.ok(gw.logs.some((l) => l.msg === 'cut the connections still open after the grace period'))
})
