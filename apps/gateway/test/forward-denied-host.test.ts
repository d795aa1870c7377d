import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, curlStatus, startCli, writeConfig } from './helpers/cli.js'

test('the forward listener answers 403 for a destination outside allow or inside deny', async (t) => {
  const allowed = await startOrigin()
  const other = await startOrigin({ host: '127.0.0.2' })
  const denied = await startOrigin({ host: '127.0.0.3' })
  t.after(() => Promise.all([allowed.close(), other.close(), denied.close()]))
  const file = await writeConfig(t, {
    forward: { listen: '127.0.0.1:0', allow: ['127.0.0.1', '127.0.0.3'], deny: ['127.0.0.3'] },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['forward'])
  const proxy = gw.urls.forward!
  assert.equal(await curlStatus(['-x', proxy, `${allowed.url}/`]), 200)
  const notAllowed = await curl(['-i', '-x', proxy, `${other.url}/`])
  assert.match(notAllowed.stdout, /^HTTP\/1\.1 403/)
  assert.equal(await curlStatus(['-x', proxy, `${denied.url}/`]), 403)
  assert.equal(other.hits, 0)
  assert.equal(denied.hits, 0)
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.status === 403 && l.rule === 'forward.deny')
  assert.equal(line.access, 'deny')
  assert.equal(await gw.stop(), 0)
})
