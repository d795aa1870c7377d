// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${clientIp}` and the like are the config's own variables, not template literals
// Issue 27: the new route keys are checked by --check with errors that name the key; a bad or dangerous
// regex, an unknown variable, a CR/LF in a header value and a route with two ways to answer are refused.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, writeConfig } from './helpers/cli.js'

test('--check refuses bad regexes, unknown variables, CR/LF in values and conflicting answers, naming each key', async (t) => {
  const file = await writeConfig(t, {
    reverse: {
      maxHeaderSize: 'lots',
      routes: [
        {
          upstreams: ['http://127.0.0.1:9001'],
          redirects: [
            { from: '^/(unclosed', to: '/x' },
            { from: '^/(a+)+$', to: '/y' },
            { from: '^/(a)$', to: '/$2', status: 200 },
          ],
          rewrite: [{ from: '(', to: '/z' }],
          headers: {
            request: { set: { 'x-id': '${requestId}', 'content-length': '1' } },
            response: { set: { 'x-evil': 'a\r\nset-cookie: x=1' } },
          },
          hosts: ['*.example.org:80'],
        },
        { prefix: '/m', upstreams: ['http://127.0.0.1:9002'], respond: { body: 'x' } },
        { prefix: '/n', bodyLimit: 'big' },
      ],
    },
  })
  const r = await runCli(['--config', file, '--check'])
  assert.equal(r.code, 1)
  for (const expected of [
    'reverse.maxHeaderSize: must be a size',
    'reverse.routes[0].redirects[2].status: must be one of 301, 302, 303, 307, 308',
    'reverse.routes[0].headers.response.set["x-evil"]: must hold visible ASCII',
    'reverse.routes[0].hosts[0]: must be a host name or "*." and a domain name, without port',
    'reverse.routes[2].bodyLimit: must be a size',
  ])
    assert.ok(r.stderr.includes(expected), `expected "${expected}" in:\n${r.stderr}`)

  // Once the schema's checks pass, the deeper ones.
  const deeper = await writeConfig(t, {
    reverse: {
      routes: [
        {
          upstreams: ['http://127.0.0.1:9001'],
          redirects: [
            { from: '^/(unclosed', to: '/x' },
            { from: '^/(a+)+$', to: '/y' },
            { from: '^/(a)$', to: '/$2' },
          ],
          rewrite: [{ from: '(', to: '/z' }],
          headers: { request: { set: { 'x-id': '${clientIp}', 'content-length': '1' } } },
        },
        { prefix: '/m', upstreams: ['http://127.0.0.1:9002'], respond: { body: 'x' } },
        { prefix: '/n' },
        { prefix: '/o', host: 'a.test', hosts: ['b.test'], static: { root: '/tmp' } },
      ],
    },
  })
  const d = await runCli(['--config', deeper, '--check'])
  assert.equal(d.code, 1)
  for (const expected of [
    'reverse.routes[0].redirects[0].from: is not a valid regular expression',
    'reverse.routes[0].redirects[1].from: may backtrack catastrophically',
    'reverse.routes[0].redirects[2].to: $2 is not a capture group of from',
    'reverse.routes[0].rewrite[0].from: is not a valid regular expression',
    'reverse.routes[0].headers.request.set["content-length"]: content-length frames the message',
    'reverse.routes[1].respond: cannot be used with upstreams',
    'reverse.routes[2].upstreams: is required (or respond, or static)',
    'reverse.routes[3].hosts: cannot be used with host',
  ])
    assert.ok(d.stderr.includes(expected), `expected "${expected}" in:\n${d.stderr}`)
  assert.doesNotMatch(d.stderr, /at .*\.js:\d+/, 'no stack trace')

  // A name that is neither a request variable nor a set environment variable.
  const unknown = await writeConfig(t, {
    reverse: {
      routes: [
        { upstreams: ['http://127.0.0.1:9001'], headers: { response: { set: { 'x-a': '${nope}' } } } },
      ],
    },
  })
  const u = await runCli(['--config', unknown, '--check'])
  assert.equal(u.code, 1)
  assert.match(
    u.stderr,
    /reverse\.routes\[0\]\.headers\.response\.set\["x-a"\]: the environment variable nope \(\$\{nope\}\) is not set/,
  )
})
