import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword } from '@proxykit/access-control'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startCli, writeConfig } from './helpers/cli.js'

test('the forward listener asks for proxy credentials (407) and accepts the right ones', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const hash = await hashPassword('s3cret')
  const yaml = `
forward:
  listen: 127.0.0.1:0
  allow: [127.0.0.1]
  auth: { realm: gw-test, users: { alice: "${hash}" } }
admin: { listen: 127.0.0.1:0 }
`
  const file = await writeConfig(t, yaml)
  const gw = await startCli(t, ['--config', file], ['forward'])
  const proxy = gw.urls.forward!
  const missing = await curl(['-i', '-x', proxy, `${origin.url}/`])
  assert.match(missing.stdout, /^HTTP\/1\.1 407/)
  assert.match(missing.stdout, /proxy-authenticate: Basic realm="gw-test"/i)
  const wrong = await curl(['-i', '-x', proxy, '-U', 'alice:nope', `${origin.url}/`])
  assert.match(wrong.stdout, /^HTTP\/1\.1 407/)
  assert.equal(origin.hits, 0)
  const ok = await curl(['-x', proxy, '-U', 'alice:s3cret', `${origin.url}/`])
  assert.equal(ok.code, 0)
  const echoed = JSON.parse(ok.stdout)
  assert.equal(echoed.headers['proxy-authorization'], undefined, 'the credential is not passed on')
  assert.equal(origin.hits, 1)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.status === 200)
  assert.equal(line.user, 'alice')
  assert.equal(await gw.stop(), 0)
})
