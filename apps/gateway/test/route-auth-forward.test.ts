// Issue 27 items 4 and 5: forward auth, as Traefik's ForwardAuth and nginx's auth_request: every request is
// first asked of an auth service (a real one on loopback). A 2xx lets it through with the headers named
// in `copyHeaders` (a client's own copy dropped) and the user and groups it names, which the route's
// `rules` then see; any other answer, status, headers and body, goes back to the client as it is.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { startOrigin } from '@proxykit/core/testing'
import { request } from 'undici'
import { startCli, writeConfig } from './helpers/cli.js'

test('forward auth: 2xx passes with copied headers and a user the rules see; a refusal is returned as it is', async (t) => {
  const asked: http.IncomingHttpHeaders[] = []
  const service = http.createServer((req, res) => {
    asked.push(req.headers)
    const session = req.headers.cookie ?? ''
    if (session.includes('session=staff')) {
      res.writeHead(204, { 'x-user': 'alice', 'x-groups': 'staff, ops', 'x-other': 'not copied' })
      return res.end()
    }
    if (session.includes('session=guest')) {
      res.writeHead(200, { 'x-user': 'guest', 'x-groups': 'visitors' })
      return res.end()
    }
    res.writeHead(302, { location: 'https://login.test/?next=x', 'x-auth-reason': 'no session' })
    res.end('log in first\n')
  })
  service.listen(0, '127.0.0.1')
  await once(service, 'listening')
  t.after(() => service.close())
  const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}/check`

  const origin = await startOrigin()
  t.after(() => origin.close())
  const file = await writeConfig(t, {
    reverse: {
      listen: '127.0.0.1:0',
      routes: [
        {
          name: 'app',
          prefix: '/app',
          upstreams: [origin.url],
          auth: {
            forward: {
              url: serviceUrl,
              copyHeaders: ['x-user'],
              userHeader: 'x-user',
              groupsHeader: 'x-groups',
            },
          },
          rules: [
            { name: 'staff-only', action: 'allow', groups: ['staff'] },
            { name: 'others', action: 'deny' },
          ],
        },
      ],
    },
    admin: { listen: '127.0.0.1:0' },
  })
  const gw = await startCli(t, ['--config', file], ['reverse'])
  const get = async (headers: Record<string, string>) => {
    const res = await request(`${gw.urls.reverse}/app/page?q=1`, { method: 'GET', headers })
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
  }

  const staff = await get({ cookie: 'session=staff', 'x-user': 'mallory' })
  assert.equal(staff.status, 200)
  const seen = origin.requests.at(-1)!.headers
  assert.equal(seen['x-user'], 'alice', "the service's x-user replaces the client's")
  assert.equal(seen['x-other'], undefined, 'only copyHeaders are copied')
  assert.equal(seen.cookie, 'session=staff')
  const question = asked.at(-1)!
  assert.equal(question['x-forwarded-method'], 'GET')
  assert.equal(question['x-forwarded-uri'], '/app/page?q=1')
  assert.equal(question['x-forwarded-proto'], 'http')
  assert.equal(question.cookie, 'session=staff')
  const line = await gw.waitForLog((l) => l.msg === 'access' && l.user === 'alice')
  assert.equal(line.rule, 'route:staff-only')

  const hits = origin.hits
  const guest = await get({ cookie: 'session=guest' })
  assert.equal(guest.status, 403, 'the service let the guest through, the rules did not')
  await gw.waitForLog((l) => l.msg === 'access' && l.user === 'guest' && l.rule === 'route:others')

  const stranger = await get({})
  assert.equal(stranger.status, 302)
  assert.equal(stranger.headers.location, 'https://login.test/?next=x')
  assert.equal(stranger.headers['x-auth-reason'], 'no session')
  assert.equal(stranger.text, 'log in first\n')
  assert.equal(origin.hits, hits, 'refused requests never reach the upstream')
  assert.equal(await gw.stop(), 0)
})
