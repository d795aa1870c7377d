import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { startCli } from './helpers/cli.js'

function sh(command: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { timeout: 60_000 }, (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout })
    })
  })
}

test('with no arguments the demo starts and every curl command it prints works', async (t) => {
  const gw = await startCli(t, [], ['forward', 'reverse', 'admin'])
  const deadline = Date.now() + 60_000
  while (!gw.stdout().includes('Ctrl-C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  const commands = gw
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('  curl '))
    .map((l) => l.trim())
  assert.equal(commands.length, 11, gw.stdout())
  const out: string[] = []
  for (const command of commands) {
    const r = await sh(command)
    assert.equal(r.code, 0, `${command} exited ${r.code}`)
    out.push(r.stdout)
  }
  const [hello1, hello2, cached1, cached2, admin, forward, tunnel, notAllowed, readyz, metrics, purge] =
    out as [string, ...string[]]
  assert.notEqual(JSON.parse(hello1).upstream, JSON.parse(hello2!).upstream, 'round robin')
  assert.match(cached1!, /cache-status: proxykit; fwd=uri-miss.*stored/i)
  assert.match(cached2!, /cache-status: proxykit; hit/i)
  assert.match(admin!, /^HTTP\/1\.1 403/)
  assert.equal(JSON.parse(forward!).path, '/through-the-forward-proxy')
  assert.equal(JSON.parse(tunnel!).path, '/through-a-connect-tunnel')
  assert.match(notAllowed!, /^HTTP\/1\.1 403/)
  assert.equal(JSON.parse(readyz!).ready, true)
  assert.match(metrics!, /proxykit_requests_total\{listener="reverse",route="demo",status="200"\} [1-9]/)
  assert.equal(JSON.parse(purge!).ok, true)
  // The purge worked: the next /cached is a miss again.
  const after = await sh(commands[2]!)
  assert.match(after.stdout, /cache-status: proxykit; fwd=uri-miss/i)
  assert.equal(await gw.stop('SIGINT'), 0)
})
