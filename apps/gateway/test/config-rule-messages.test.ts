import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, resolveConfig } from '../src/config/parse.js'

function problems(document: unknown): string[] {
  try {
    resolveConfig(document)
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err))
    return err.problems
  }
  assert.fail('the document was accepted')
}

// Issue 26 item 9: bounds came out in Ajv's own words ("must NOT have fewer than 8 characters"), unlike
// every other config message. Each names the path and says the rule plainly.
test('length, size and count bounds read like the other config errors', () => {
  const found = problems({
    admin: { token: 'short' },
    forward: { connectPorts: [0, 70000], auth: { realm: '', users: {} } },
    reverse: {
      routes: [{ upstreams: [], retries: 11, rateLimit: { max: 0 } }],
    },
  })
  assert.deepEqual(found, [
    'admin.token: must be at least 8 characters long',
    'forward.auth.realm: must be at least 1 character long',
    'forward.auth.users: must have at least 1 entry',
    'forward.connectPorts[0]: must be at least 1',
    'forward.connectPorts[1]: must be at most 65535',
    'reverse.routes[0].rateLimit.max: must be at least 1',
    'reverse.routes[0].retries: must be at most 10',
    'reverse.routes[0].upstreams: must list at least 1 item',
  ])
  for (const p of found) assert.doesNotMatch(p, /NOT|fewer|more than|properties|items$/)
})
