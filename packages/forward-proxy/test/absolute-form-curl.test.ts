import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { curl, startProxy } from './helpers.js'

test('curl -x forwards absolute-form GET and POST with path, query and body intact', async (t) => {
  const origin = await startOrigin()
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const get = await curl(['-x', proxy.url, `${origin.url}/a/b?x=1&y=%20z`])
  assert.equal(get.code, 0, get.stderr)
  const echoed = JSON.parse(get.stdout)
  assert.equal(echoed.method, 'GET')
  assert.equal(echoed.url, '/a/b?x=1&y=%20z')
  assert.equal(echoed.headers.host, `127.0.0.1:${origin.port}`)

  const post = await curl(['-x', proxy.url, '--data-binary', 'hello, origin', `${origin.url}/submit`])
  assert.equal(post.code, 0, post.stderr)
  const posted = JSON.parse(post.stdout)
  assert.equal(posted.method, 'POST')
  assert.equal(posted.body, 'hello, origin')
  assert.equal(origin.hits, 2)
})

test('a request body without Content-Type, and a chunked one, stream through unparsed', async (t) => {
  const origin = await startOrigin()
  const proxy = await startProxy()
  t.after(() => Promise.all([proxy.app.close(), origin.close()]))

  const plain = await curl([
    '-x',
    proxy.url,
    '-X',
    'PUT',
    '-H',
    'Content-Type:',
    '--data-binary',
    '{"a":',
    `${origin.url}/p`,
  ])
  assert.equal(plain.code, 0, plain.stderr)
  assert.equal(JSON.parse(plain.stdout).body, '{"a":')

  const chunked = await curl([
    '-x',
    proxy.url,
    '-H',
    'Transfer-Encoding: chunked',
    '-H',
    'Content-Type: application/json',
    '--data-binary',
    'not json at all',
    `${origin.url}/c`,
  ])
  assert.equal(chunked.code, 0, chunked.stderr)
  assert.equal(JSON.parse(chunked.stdout).body, 'not json at all')
})
