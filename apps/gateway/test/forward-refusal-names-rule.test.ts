// Issue 26.3: a CONNECT to a port outside `connectPorts` is refused (403) by the forward proxy after the
// access rules have allowed it; the access log and the dashboard's recent denials named the allow rule
// (`access: allow, rule: forward.allow`). They must name what refused: `forward.connectPorts`, and
// `forward.allow` with `access: deny` for an address the proxy's own guard refuses.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { curl, curlStatus, startCli, writeConfig } from './helpers/cli.js'

test('a refused CONNECT port and a refused address name the forward proxy rule that refused them', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    // 127.0.0.2 is allowed by an access rule, but the port is not a CONNECT port; `localhost` is allowed
    // by name, but it resolves to 127.0.0.1 (or ::1), which the proxy's own guard refuses (loopback, not
    // listed, no allowPrivate).
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.2', 'localhost'] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward', 'admin'])
  const proxy = gw.urls.forward!

  const tunnel = await curl(['-i', '-p', '-x', proxy, `http://127.0.0.2:${origin.port}/`])
  assert.match(tunnel.stdout, /^HTTP\/1\.1 403/)
  const port = await gw.waitForLog((l) => l.msg === 'access' && l.method === 'CONNECT')
  assert.equal(port.status, 403)
  assert.equal(port.access, 'deny')
  assert.equal(port.rule, 'forward.connectPorts')

  assert.equal(await curlStatus(['-x', proxy, `http://localhost:${origin.port}/`]), 403)
  const address = await gw.waitForLog((l) => l.msg === 'access' && String(l.target).includes('localhost'))
  assert.equal(address.status, 403)
  assert.equal(address.access, 'deny')
  assert.equal(address.rule, 'forward.allow')
  assert.equal(origin.hits, 0)

  const live = await request(`${gw.urls.admin}/live`)
  const snapshot = (await live.body.json()) as { denials: Array<{ rule: string | null; method: string }> }
  const connect = snapshot.denials.find((d) => d.method === 'CONNECT')
  assert.equal(connect?.rule, 'forward.connectPorts', JSON.stringify(snapshot.denials))
  assert.ok(!snapshot.denials.some((d) => d.rule === null), 'every denial names its rule')
  assert.equal(await gw.stop(), 0)
})
