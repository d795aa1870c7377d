import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

test('an upstream failing its health checks gets no traffic and shows as unhealthy in /metrics', async (t) => {
  const good = await startOrigin()
  const sick = await startOrigin({
    handler: (req, res) => {
      res.writeHead(req.url === '/health' ? 503 : 200)
      res.end('sick')
    },
  })
  t.after(() => Promise.all([good.close(), sick.close()]))
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          name: 'web',
          upstreams: [good.url, sick.url],
          healthCheck: { path: '/health', interval: '200ms', timeout: '1s', fall: 1, rise: 1 },
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const healthy = async () => {
    const text = await (await fetch(`${gw.urls.admin}/metrics`)).text()
    return new RegExp(`^proxykit_upstream_healthy\\{route="web",upstream="${sick.url}"\\} 0$`, 'm').test(text)
  }
  let down = await healthy()
  for (let i = 0; i < 100 && !down; i++) {
    await new Promise((r) => setTimeout(r, 100))
    down = await healthy()
  }
  assert.ok(down, 'the sick upstream is reported down')
  const before = sick.requests.filter((r) => r.url !== '/health').length
  for (let i = 0; i < 6; i++) await (await fetch(`${gw.urls.reverse}/page${i}`)).arrayBuffer()
  assert.equal(sick.requests.filter((r) => r.url !== '/health').length, before, 'no traffic to the sick one')
  assert.ok(good.requests.filter((r) => r.url !== '/health').length >= 6)
  const list = (await (await fetch(`${gw.urls.admin}/upstreams`)).json()) as {
    upstreams: Array<{ url: string; state: string }>
  }
  assert.equal(list.upstreams.find((u) => u.url === sick.url)?.state, 'unhealthy')
  assert.equal(await gw.stop(), 0)
})
