import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { startCli, writeConfig } from './helpers/cli.js'

const TOKEN = 'token-before-body-test'

// Issue 26 item 5: a caller without the token must learn nothing about the bodies the admin API
// accepts: 401 comes before any 400 from body validation.
test('admin: a mutating call without the token is 401 whatever its body, before any validation', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: { listen: '127.0.0.1:0', routes: [{ name: 'api', upstreams: [origin.url], cache: true }] },
    admin: { listen: '127.0.0.1:0', token: TOKEN },
  })
  const gw = await startCli(t, ['--config', file], ['reverse', 'admin'])
  const call = async (method: string, path: string, body: string | undefined, token: string | null) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (token !== null) headers.authorization = `Bearer ${token}`
    const res = await fetch(`${gw.urls.admin}${path}`, { method, headers, body })
    const text = await res.text()
    return { status: res.status, text }
  }
  const invalid: Array<[string, string, string]> = [
    ['POST', '/purge', '{"nothing":1}'],
    ['POST', '/purge', '{not json'],
    ['POST', '/upstreams', '{"route":"api"}'],
    ['POST', '/upstreams/drain', '{"url":"ftp://x"}'],
    ['POST', '/upstreams/undrain', '[]'],
    ['DELETE', '/upstreams', '{}'],
  ]
  for (const [method, path, body] of invalid) {
    for (const token of [null, 'wrong-token']) {
      const res = await call(method, path, body, token)
      assert.equal(res.status, 401, `${method} ${path} ${body} with token ${token}: ${res.text}`)
      assert.doesNotMatch(res.text, /must|body/, 'no schema message leaks')
    }
  }
  assert.equal((await call('POST', '/reload', '{not json', null)).status, 401)
  // With the token, the same bodies are still validated.
  for (const [method, path, body] of invalid) {
    const res = await call(method, path, body, TOKEN)
    assert.equal(res.status, 400, `${method} ${path} ${body} with the token: ${res.text}`)
  }
  assert.equal(await gw.stop(), 0)
})
