// Issue 23 item 10 through the gateway: `forward.ports` limits the ports of plain-HTTP requests as
// `connectPorts` does CONNECT's, and `allow`/`deny` entries take `host:port` and `host:low-high`.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { resolveConfig } from '../src/config/parse.js'
import { curl, startCli, writeConfig } from './helpers/cli.js'

const code = async (proxy: string, url: string) =>
  Number((await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-x', proxy, url])).stdout)

test('forward.ports and port-qualified allow/deny entries decide which ports a plain-HTTP request reaches', async (t) => {
  const a = await startOrigin()
  const b = await startOrigin()
  t.after(() => Promise.all([a.close(), b.close()]))
  const [low, high] = a.port < b.port ? [a, b] : [b, a]
  const file = await writeConfig(t, {
    forward: {
      listen: '127.0.0.1:0',
      allow: [`127.0.0.1:${low.port}-${high.port}`],
      deny: [`127.0.0.1:${high.port}`],
      ports: [80, `${low.port}-65535`],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward'])
  const proxy = gw.urls.forward!
  assert.equal(await code(proxy, `${low.url}/x`), 200)
  assert.equal(await code(proxy, `${high.url}/x`), 403, 'denied on that port')
  assert.equal(high.hits, 0)
  assert.equal(low.hits, 1)
  await gw.stop()

  // The same origin outside `ports`: refused by the forward proxy before any connection.
  const narrow = await writeConfig(t, {
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1'], ports: [80, 443] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw2 = await startCli(t, ['--config', narrow], ['forward'])
  assert.equal(await code(gw2.urls.forward!, `${low.url}/x`), 403)
  assert.equal(low.hits, 1)
  const line = await gw2.waitForLog((l) => l.msg === 'access' && l.status === 403)
  assert.equal(line.rule, 'forward.ports')
  assert.equal(await gw2.stop(), 0)
})

test('the config checks ports and port suffixes, and defaults ports to Squid’s Safe_ports', () => {
  const ok = resolveConfig({ forward: { allow: ['example.com:8080', '[::1]:8000-8999', '10.0.0.0/8:80'] } })
  assert.deepEqual(ok.forward!.ports, [80, 443, '1025-65535', 21, 70, 210, 280, 488, 591, 777])
  for (const [forward, why] of [
    [{ ports: ['80-70'] }, /forward\.ports\[0\]: must be a port/],
    [{ ports: [0] }, /forward\.ports\[0\]: must be at least 1/],
    [{ allow: ['example.com:99999'] }, /forward\.allow\[0\]: must be a host name/],
    [{ deny: ['example.com:x'] }, /forward\.deny\[0\]: must be a host name/],
  ] as const)
    assert.throws(() => resolveConfig({ forward }), why)
})
