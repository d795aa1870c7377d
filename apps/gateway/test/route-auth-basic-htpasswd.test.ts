// Issue 27 item 4: a route's Basic auth takes users inline (bcrypt) and from an htpasswd file, which a
// reload (SIGHUP) reads again; the access log names the user; wrong or missing credentials get 401 with
// WWW-Authenticate, and the upstream gets the request only when the credentials are right.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { hashPassword } from '@proxykit/access-control'
import { startOrigin } from '@proxykit/core/testing'
import bcrypt from 'bcryptjs'
import { curl, curlStatus, startCli, writeConfig } from './helpers/cli.js'

test('Basic auth: inline bcrypt users and an htpasswd file reloaded with the config', async (t) => {
  const origin = await startOrigin()
  t.after(() => origin.close())
  const dir = await mkdtemp(join(tmpdir(), 'pk-htpasswd-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const htpasswd = join(dir, 'htpasswd')
  await writeFile(htpasswd, `bob:${bcrypt.hashSync('bob-pw', 4)}\n`)
  const config = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          name: 'private',
          prefix: '/private',
          upstreams: [origin.url],
          auth: {
            realm: 'staff area',
            basic: { users: { alice: bcrypt.hashSync('alice-pw', 4) }, htpasswd },
          },
        },
        { name: 'open', prefix: '/open', upstreams: [origin.url] },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', config], ['reverse'])
  const url = `${gw.urls.reverse}/private/x`

  const anonymous = await curl(['-i', url])
  assert.match(anonymous.stdout, /^HTTP\/1\.1 401/)
  assert.match(anonymous.stdout, /www-authenticate: Basic realm="staff area"/i)
  assert.equal(await curlStatus(['-u', 'alice:wrong', url]), 401)
  assert.equal(origin.hits, 0, 'nothing reached the upstream')
  assert.equal(await curlStatus(['-u', 'alice:alice-pw', url]), 200)
  assert.equal(await curlStatus(['-u', 'bob:bob-pw', url]), 200)
  assert.equal(await curlStatus([`${gw.urls.reverse}/open/x`]), 200, 'other routes need nothing')
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.user === 'bob')
  assert.equal(line.status, 200)

  // The file changes: bob is gone, carol (scrypt) arrives, once the gateway reloads.
  await writeFile(htpasswd, `carol:${await hashPassword('carol-pw', { N: 1024 })}\n`)
  gw.child.kill('SIGHUP')
  await gw.waitForLog((l) => l.event === 'reload' && l.ok === true)
  assert.equal(await curlStatus(['-u', 'carol:carol-pw', url]), 200)
  assert.equal(await curlStatus(['-u', 'bob:bob-pw', url]), 401)
  assert.equal(await curlStatus(['-u', 'alice:alice-pw', url]), 200)
  assert.equal(await gw.stop(), 0)
})
