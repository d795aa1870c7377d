import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { selfSignedCertificate } from '@proxykit/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import accessControl, { hashPassword } from '../src/index.js'

const run = promisify(execFile)

async function curl(url: string, args: string[]) {
  const { stdout } = await run('curl', [
    '-sk',
    '--max-time',
    '10',
    '-D',
    '-',
    '-w',
    '%{http_version}',
    ...args,
    url,
  ])
  const end = stdout.indexOf('\r\n\r\n')
  const head = stdout.slice(0, end).toLowerCase()
  return {
    status: Number(head.split(' ')[1]),
    header: (name: string) => new RegExp(`\\n${name}: ([^\\r\\n]*)`).exec(head)?.[1],
    version: stdout.slice(stdout.lastIndexOf('\n') + 1).replace(/^.*?(2|1\.1)$/s, '$1'),
  }
}

// Host rules read the client's authority, which an HTTP/2 client sends as `:authority`, not Host; the
// answers (403, 401 with its challenge, 429 with Retry-After) go out over HTTP/2 like over HTTP/1.1.
test('access decisions for HTTP/2 and HTTP/1.1 clients: host rules, deny, auth, rate limit', async (t) => {
  const { key, cert } = await selfSignedCertificate()
  const app = Fastify({ http2: true, https: { allowHTTP1: true, key, cert } }) as unknown as FastifyInstance
  await app.register(accessControl, {
    rules: [
      { name: 'no-admin', action: 'deny', paths: ['/admin'] },
      { name: 'members', action: 'allow', paths: ['/members'], users: ['*'] },
      {
        name: 'limited',
        action: 'allow',
        paths: ['/limited'],
        rateLimit: { max: 1, timeWindow: '1 minute', key: (r) => r.raw.httpVersion },
      },
      { name: 'site', action: 'allow', hosts: ['app.test'] },
    ],
    defaultAction: 'deny',
    auth: { users: { ann: { password: await hashPassword('pw') } } },
  })
  app.get('/*', async (request) => `ok ${request.raw.httpVersion}`)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const base = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  for (const flag of ['--http2', '--http1.1']) {
    const version = flag === '--http2' ? '2' : '1.1'
    const site = await curl(`${base}/page`, [flag, '-H', 'Host: app.test'])
    assert.equal(site.status, 200, `${flag}: the host rule matched`)
    assert.equal(site.version, version)
    assert.equal((await curl(`${base}/page`, [flag, '-H', 'Host: other.test'])).status, 403)
    assert.equal((await curl(`${base}/admin`, [flag, '-H', 'Host: app.test'])).status, 403)
    const challenge = await curl(`${base}/members`, [flag])
    assert.equal(challenge.status, 401)
    assert.match(challenge.header('www-authenticate') ?? '', /^basic realm=/)
    assert.equal((await curl(`${base}/members`, [flag, '-u', 'ann:pw'])).status, 200)
    // One counter per protocol (the key), so each round starts afresh.
    const path = '/limited'
    assert.equal((await curl(`${base}${path}`, [flag])).status, 200)
    const limited = await curl(`${base}${path}`, [flag])
    assert.equal(limited.status, 429)
    assert.match(limited.header('retry-after') ?? '', /^\d+$/)
  }
})
