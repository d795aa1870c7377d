// Issue 26.6: with loopback allowed (`allowPrivate: true`), a client of the forward listener reached the
// gateway's admin listener through it. Every listener of the gateway (forward, reverse, admin; in a worker
// the primary's admin too) is never a destination: 403 (`forward.self` in the access log) for absolute-form
// and CONNECT, in every loopback spelling; the forward listener itself stays a loop (508).
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net, { type AddressInfo } from 'node:net'
import { type TestContext, test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

/** A loopback port free a moment ago: CONNECT needs the port in `connectPorts` before the gateway starts. */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function assertUnreachable(proxy: string, port: number, what: string): Promise<void> {
  for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]', '2130706433']) {
    const get = await curl(['-i', '-x', proxy, `http://${host}:${port}/ready`])
    assert.match(get.stdout, /^HTTP\/1\.1 403/, `GET ${what} as ${host}: ${get.stdout}`)
    assert.match(get.stdout, /own listeners/)
    const tunnel = await curl(['-i', '-p', '-x', proxy, `http://${host}:${port}/ready`])
    assert.match(tunnel.stdout, /^HTTP\/1\.1 403/, `CONNECT ${what} as ${host}: ${tunnel.stdout}`)
  }
}

async function run(t: TestContext, workers: number): Promise<void> {
  const origin = await startOrigin()
  t.after(() => origin.close())
  // The ports are picked before the gateway binds them, so another process may take one meanwhile: then
  // the gateway cannot start (EADDRINUSE), and the test picks again.
  const start = async () => {
    const [adminPort, reversePort] = [await freePort(), await freePort()]
    const file = await writeConfig(
      t,
      {
        ...(workers > 1 ? { workers } : {}),
        forward: {
          listen: '127.0.0.1:0',
          allowPrivate: true,
          connectPorts: [443, adminPort, reversePort],
        },
        reverse: { listen: `127.0.0.1:${reversePort}`, routes: [{ prefix: '/', upstreams: [origin.url] }] },
        admin: { listen: `127.0.0.1:${adminPort}` },
      },
      'gateway.json',
    )
    const gw = await startCli(t, ['--config', file], ['forward', 'reverse', 'admin'])
    return { gw, adminPort, reversePort }
  }
  let started: Awaited<ReturnType<typeof start>> | undefined
  for (let attempt = 1; started === undefined; attempt++) {
    try {
      started = await start()
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err
    }
  }
  const { gw, adminPort, reversePort } = started
  const proxy = gw.urls.forward!
  // The admin listener and the reverse listener answer directly...
  assert.equal(
    (await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${adminPort}/live`])).stdout,
    '200',
  )
  // ...and never through the forward proxy, while other loopback destinations still are reachable.
  await assertUnreachable(proxy, adminPort, 'the admin listener')
  await assertUnreachable(proxy, reversePort, 'the reverse listener')
  assert.equal(origin.hits, 0, 'nothing reached the reverse listener’s upstream')
  const ok = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', proxy, `${origin.url}/`])
  assert.equal(ok.stdout, '200')
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.rule === 'forward.self')
  assert.equal(line.access, 'deny')
  const forwardPort = new URL(proxy).port
  const loop = await curl([
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-x',
    proxy,
    `http://localhost:${forwardPort}/`,
  ])
  assert.equal(loop.stdout, '508')
  assert.equal(await gw.stop(), 0)
}

test('the gateway’s own listeners are never a forward destination (one process)', async (t) => {
  await run(t, 1)
})

test('the gateway’s own listeners are never a forward destination (workers: the primary’s admin too)', async (t) => {
  await run(t, 2)
})
