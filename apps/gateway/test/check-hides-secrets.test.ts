import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword } from '@proxykit/access-control'
import { runCli, writeConfig } from './helpers/cli.js'

// Issue 26 item 7: `--check` output gets pasted into tickets and chats; it hides the password hashes as
// it hides the admin token and the parent proxy's password.
test('--check prints <set> for the admin token, the parent password and every password hash', async (t) => {
  const scrypt = await hashPassword('alice-password')
  const bcrypt = '$2b$10$abcdefghijklmnopqrstuuO9bX1c5yFq3LXy1qHqvFq0C7F0nMqKq'
  const file = await writeConfig(t, {
    forward: {
      listen: '127.0.0.1:0',
      auth: { users: { alice: scrypt, bob: bcrypt } },
      parent: { url: 'http://127.0.0.1:3129', username: 'up', password: 'parent-secret' },
    },
    admin: { listen: '127.0.0.1:0', token: 'the-admin-token' },
  })
  const r = await runCli(['--check', '--config', file])
  assert.equal(r.code, 0, r.stderr)
  for (const secret of [scrypt, bcrypt, 'parent-secret', 'the-admin-token'])
    assert.ok(!r.stdout.includes(secret), `--check printed a secret: ${secret}`)
  const resolved = JSON.parse(r.stdout)
  assert.deepEqual(resolved.forward.auth.users, { alice: '<set>', bob: '<set>' }, 'user names stay')
  assert.equal(resolved.admin.token, '<set>')
  assert.equal(resolved.forward.parent.password, '<set>')
})
